#!/usr/bin/env bash
# Installs Debian's prometheus package for promtool, which the tests use to check the alerting rules of
# infra/deploy/prometheus (syntax, and their unit tests on synthetic series) and the API's /metrics
# exposition. Nothing is started: promtool reads files. Idempotent: does nothing when promtool is there.
set -euo pipefail
bash "$(dirname "${BASH_SOURCE[0]}")/../apt-ensure.sh" /usr/bin/promtool prometheus
echo "promtool: $(promtool --version 2>&1 | head -n 1)"
