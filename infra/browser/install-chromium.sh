#!/usr/bin/env bash
# Installs Debian's chromium (the browser the map page's end-to-end test drives through
# playwright-core at /usr/bin/chromium). Idempotent: does nothing when it is already there.
set -euo pipefail
bash "$(dirname "${BASH_SOURCE[0]}")/../apt-ensure.sh" /usr/bin/chromium chromium fonts-dejavu-core
echo "chromium: $(/usr/bin/chromium --version 2>/dev/null || echo present)"
