"""Errors that reach the user as one sentence with a fix, and the CLI's exit codes.

Exit codes (documented in the README):

=====  ==========================================================
code   meaning
=====  ==========================================================
0      success
1      unexpected internal error (run again with ``--debug``)
2      bad input: missing, unreadable or unusable file or option
3      pose model missing, corrupt or mismatching its checksum
4      analysed, but no demi-plié was found / nothing scorable
5      batch: some files failed (the others were scored)
130    interrupted (Ctrl-C)
=====  ==========================================================
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_INTERNAL = 1
EXIT_BAD_INPUT = 2
EXIT_MODEL = 3
EXIT_NO_PLIE = 4
EXIT_SOME_FAILED = 5
EXIT_INTERRUPTED = 130


class TurnoutError(Exception):
    """An expected failure with a user-facing message and a fix.

    ``str(error)`` is the full sentence shown to the user; ``exit_code`` is what the CLI returns.
    """

    exit_code = EXIT_INTERNAL

    def __init__(self, message: str, fix: str | None = None) -> None:
        self.message = message
        self.fix = fix
        super().__init__(message if fix is None else f"{message} {fix}")


class InputError(TurnoutError):
    """The input (video, image, landmark file, option) cannot be used."""

    exit_code = EXIT_BAD_INPUT


class ModelError(TurnoutError):
    """The pose model is missing, corrupt, or does not match its recorded checksum."""

    exit_code = EXIT_MODEL


class NoPlieError(TurnoutError):
    """The recording was analysed, but holds no demi-plié that can be scored."""

    exit_code = EXIT_NO_PLIE
