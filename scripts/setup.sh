#!/usr/bin/env bash
# Create .venv and install Photo Tips into it. Usage: scripts/setup.sh [extra,...]
# e.g. `scripts/setup.sh test,vlm`. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip
extras=${1:-}
if [[ ",$extras," == *,vlm,* ]] && ! .venv/bin/python -c "import torch" 2>/dev/null; then
  # The CPU build: an unpinned torch would pull several GB of CUDA packages.
  # On a GPU machine, install the CUDA torch you want first and this step is skipped.
  .venv/bin/python -m pip install -q torch==2.13.0
fi
.venv/bin/python -m pip install -q -e ".${extras:+[$extras]}"
