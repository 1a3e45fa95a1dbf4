#!/usr/bin/env bash
# Create .venv and install Photo Tips into it. Usage: scripts/setup.sh [extra,...]
# e.g. `scripts/setup.sh test` for the test tools. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip
extras=${1:-}
.venv/bin/python -m pip install -q -e ".${extras:+[$extras]}"
