#!/usr/bin/env bash
# One command: set everything up (first time only) and analyse the built-in sample
# (samples/demo_plie.mp4), or the video given as an argument.
#   ./run.sh                   -> turnout_output/demo_plie/report.html and friends
#   ./run.sh my_plie.mp4       -> turnout_output/my_plie/...
set -euo pipefail
cd "$(dirname "$0")"
scripts/setup.sh
# The built-in sample's report is simply made again on every run; your own videos' reports are
# never replaced unless you pass --force.
[ $# -eq 0 ] && set -- --force
exec .venv/bin/turnout analyze "$@"
