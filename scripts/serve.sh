#!/usr/bin/env bash
# Install and start the server with its demo page (http://127.0.0.1:8000/ by default).
# Runs on the CPU photo check unless PHOTOTIPS_SCORERS names other scorers.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
exec .venv/bin/phototips serve "$@"
