#!/usr/bin/env bash
# One command: set everything up (first time only) and run the whole test suite.
# Extra arguments go to pytest (e.g. ./test.sh -k extract).
set -euo pipefail
cd "$(dirname "$0")"
scripts/setup.sh --test
# The HTML report test drives headless Chromium (Debian package); install it when missing and possible.
if ! command -v chromium >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    echo "Installing Debian's chromium for the report test ..."
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
        || echo "Could not install chromium; the report screenshot test will be skipped." >&2
fi
exec .venv/bin/python -m pytest "$@"
