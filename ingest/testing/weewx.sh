#!/usr/bin/env bash
# A Python virtual environment with weewx from PyPI, for the test that uploads through weewx's own
# Weather-Underground uploader (api/wunderground.weewx.test.ts). Reference tooling only: the runtime
# never uses Python. Created once under <project>/.cache/weewx-venv; prints its python's path.
#   WEEWX_VERSION (5.5.2)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
version="${WEEWX_VERSION:-5.5.2}"
venv="$root/.cache/weewx-venv"
stamp="$venv/.weewx-$version"
if [[ ! -f "$stamp" ]]; then
  command -v python3 >/dev/null 2>&1 || { echo "weewx.sh: python3 is not on PATH" >&2; exit 1; }
  rm -rf "$venv"
  python3 -m venv "$venv" >&2
  "$venv/bin/pip" install --quiet --disable-pip-version-check "weewx==$version" >&2
  touch "$stamp"
fi
echo "$venv/bin/python"
