#!/usr/bin/env bash
# The Python venv of the API fuzzer (schemathesis, pinned in requirements.txt beside this script):
# for the fuzz test only, never the product's runtime. Built by infra/python-venv.sh (outside the
# checkout, shared, under a lock).
#
#   bash infra/fuzz/venv.sh          # create it if missing; prints the venv's `st` command on the last line
#   bash infra/fuzz/venv.sh st       # print the venv's `st` if it exists (exit 1 if not)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
case "${1:-}" in
  st) peek=(--peek) ;;
  '') peek=() ;;
  *) echo "venv.sh: unknown command '$1' (none, or 'st')" >&2; exit 1 ;;
esac
exec bash "$here/../python-venv.sh" "${peek[@]}" fuzz-venv "$here/requirements.txt" st prefer -- --version
