#!/usr/bin/env bash
# Installs Debian's chromium (the browser the map page's end-to-end test drives through
# playwright-core at /usr/bin/chromium). Idempotent: does nothing when it is already there.
set -euo pipefail
if [ -x /usr/bin/chromium ]; then
  echo "chromium: $(/usr/bin/chromium --version 2>/dev/null || echo present)"
  exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends chromium fonts-dejavu-core
echo "chromium: $(/usr/bin/chromium --version)"
