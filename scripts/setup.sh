#!/usr/bin/env bash
# Set up turnout_vision in this checkout: a virtual environment in .venv with pinned packages,
# and the pose model built from its PyPI recipe (models/), cached and checksummed.
# Safe to run again: it only does what is missing.  Usage: scripts/setup.sh [--test]
set -euo pipefail
cd "$(dirname "$0")/.."

PY=${PYTHON:-python3}
if ! "$PY" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
    echo "turnout_vision needs Python 3.11 or newer; set PYTHON=/path/to/python3.11" >&2
    exit 2
fi
if [ ! -x .venv/bin/python ]; then
    echo "Creating the virtual environment in .venv ..."
    "$PY" -m venv .venv
fi
extras=""
[ "${1:-}" = "--test" ] && extras="[test]"
stamp=".venv/.installed$(echo "$extras" | tr -d '[]')"
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
    echo "Installing turnout_vision and its pinned dependencies ..."
    # The build back-end's notices are kept in a log; it is shown only if the install fails.
    if ! { .venv/bin/python -m pip install --disable-pip-version-check --upgrade pip \
           && .venv/bin/python -m pip install --disable-pip-version-check -e ".${extras}"; } > .venv/install.log 2>&1; then
        cat .venv/install.log >&2
        echo "Installing failed (log above, also in .venv/install.log)." >&2
        exit 1
    fi
    touch "$stamp"
fi
# Builds the pose model on first use (downloads the mediapipe wheel from PyPI once); no-op when cached.
.venv/bin/turnout model build
