#!/usr/bin/env bash
# Install everything the tests need (Python packages; Debian's chromium and nginx) and run them.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh test,vlm,study
need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium fonts-dejavu-core)
[ -x /usr/sbin/nginx ] || command -v nginx >/dev/null 2>&1 || need+=(nginx)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi
  # The tests start their own nginx on a free port: keep the package from starting a system one on port 80.
  ours=
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    ours=1
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
    $SUDO chmod +x /usr/sbin/policy-rc.d
    trap '$SUDO rm -f /usr/sbin/policy-rc.d' EXIT
  fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
  if [ -n "$ours" ]; then $SUDO rm -f /usr/sbin/policy-rc.d; trap - EXIT; fi
fi
exec .venv/bin/python -m pytest "$@"
