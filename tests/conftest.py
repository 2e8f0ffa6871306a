"""Shared fixtures.

Real footage lives outside the repository in ``../shared/footage`` (see its README); tests that need
it use ``footage_path``/``footage`` and are skipped with a clear reason when it is absent.
The pose model is built once per session (or taken from the cache, see ``pose_model.cache_dir``).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
FOOTAGE_DIR = REPO.parent / "shared" / "footage"


def footage_path(relative: str) -> Path:
    """Path of a file under ``../shared/footage``; skips the calling test if it is not there."""
    path = FOOTAGE_DIR / relative
    if not path.is_file():
        pytest.skip(f"real footage {relative} is not available ({FOOTAGE_DIR} is absent or incomplete)")
    return path


@pytest.fixture(scope="session")
def footage() -> Callable[[str], Path]:
    """``footage("wikimedia/ballet_plie.mp4")`` -> Path, skipping when the footage folder is absent."""
    return footage_path


@pytest.fixture(scope="session")
def built_pose_model():  # type: ignore[no-untyped-def]
    """The pose model built from ``models/`` (a ``ResolvedModel``): the cached bundle if its sha256 is
    the recipe's, else built now (downloading the source wheel from PyPI, or from
    ``TURNOUT_MODEL_WHEEL``). Ignores ``TURNOUT_MODEL_TASK``: tests check the built model."""
    from turnout_vision.pose_model import build_model

    return build_model("full")


@pytest.fixture
def turnout_cli(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Callable[..., tuple[int, str, str]]:
    """``turnout_cli("model", "path")`` runs the ``turnout`` command in-process and returns
    (exit code, stdout, stderr with rich's line wrapping undone)."""
    import sys

    from turnout_vision.cli import main

    def run(*args: str) -> tuple[int, str, str]:
        monkeypatch.setattr(sys, "argv", ["turnout", *map(str, args)])
        capsys.readouterr()
        try:
            main()
            code = 0
        except SystemExit as exc:
            code = int(exc.code or 0)
        out, err = capsys.readouterr()
        return code, out, " ".join(err.split())

    return run
