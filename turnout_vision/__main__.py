"""``python -m turnout_vision`` is the ``turnout`` command."""

from .cli import main

if __name__ == "__main__":
    main()
