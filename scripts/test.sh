#!/usr/bin/env bash
# Install everything the tests need (Python packages, Debian's chromium) and run them.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh test,vlm,study
if ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium fonts-dejavu-core >/dev/null
fi
exec .venv/bin/python -m pytest "$@"
