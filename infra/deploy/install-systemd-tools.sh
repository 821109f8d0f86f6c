#!/usr/bin/env bash
# Installs Debian's systemd package for systemd-analyze, which the unit tests use to check the units
# of infra/deploy/systemd (verify, and the offline security assessment). Nothing is started: the
# checker reads unit files. Idempotent: does nothing when systemd-analyze is already there.
set -euo pipefail
bash "$(dirname "${BASH_SOURCE[0]}")/../apt-ensure.sh" /usr/bin/systemd-analyze systemd
echo "systemd-analyze: $(systemd-analyze --version | head -n 1)"
