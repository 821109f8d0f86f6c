#!/usr/bin/env bash
# The Python venv of the reference tools (MET Norway's titanlib and gridpp, pinned in requirements.txt
# beside this script): for the reference tests and the QC comparison only, never the product's runtime.
# Built by infra/python-venv.sh (outside the checkout, shared, under a lock).
#
#   bash infra/reference/venv.sh          # create it if missing; prints the venv's python on the last line
#   bash infra/reference/venv.sh python   # print the venv's python if it exists (exit 1 if not)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
case "${1:-}" in
  python) peek=(--peek) ;;
  '') peek=() ;;
  *) echo "venv.sh: unknown command '$1' (none, or 'python')" >&2; exit 1 ;;
esac
exec bash "$here/../python-venv.sh" "${peek[@]}" reference-venv "$here/requirements.txt" python only -- -c 'import titanlib, gridpp'
