#!/usr/bin/env bash
# Installs Debian's systemd package for systemd-analyze, which the unit tests use to check the units
# of infra/deploy/systemd (verify, and the offline security assessment). Nothing is started: the
# checker reads unit files. Idempotent: does nothing when systemd-analyze is already there.
set -euo pipefail
if command -v systemd-analyze > /dev/null; then
  echo "systemd-analyze: $(systemd-analyze --version | head -n 1)"
  exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends systemd
echo "systemd-analyze: $(systemd-analyze --version | head -n 1)"
