#!/usr/bin/env bash
# Refresh the screenshots in docs/screens/ from the browser tests (headless Chromium, real server).
set -euo pipefail
cd "$(dirname "$0")/.."
PHOTOTIPS_SCREENS_DIR="$PWD/docs/screens" exec .venv/bin/python -m pytest -q tests/test_demo_page.py "$@"
