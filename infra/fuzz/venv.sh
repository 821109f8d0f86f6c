#!/usr/bin/env bash
# The Python venv of the API fuzzer (schemathesis, pinned in requirements.txt beside this script):
# for the fuzz test only, never the product's runtime.
#
#   bash infra/fuzz/venv.sh          # create it if missing; prints the venv's `st` command on the last line
#   bash infra/fuzz/venv.sh st       # print the venv's `st` if it exists (exit 1 if not)
#
# The venv lives outside the checkout, shared by every clone on the machine, one per interpreter and
# set of pins: ${XDG_CACHE_HOME:-$HOME/.cache}/hyperlocal-nowcast/fuzz-venv/<python version>-<hash>.
# It is built under a lock and marked complete last, so concurrent callers never use half a venv.
# Where python3's venv module lacks ensurepip and we are root, python3-venv is apt-get installed.
set -euo pipefail

script_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
requirements="$script_dir/requirements.txt"
base="${XDG_CACHE_HOME:-$HOME/.cache}/hyperlocal-nowcast/fuzz-venv"

die() { echo "venv.sh: $*" >&2; exit 1; }
say() { echo "venv.sh: $*" >&2; }

command -v python3 >/dev/null 2>&1 || die "python3 is not on PATH"
ident="$(python3 -c 'import sys, platform; print(platform.python_version(), sys.base_prefix, platform.machine())')" ||
  die "python3 does not run"
version="${ident%% *}"
hash="$( { printf '%s\n' "$ident"; cat "$requirements"; } | sha256sum | cut -c1-12)"
venv="$base/$version-$hash"
st="$venv/bin/st"

ready() { [[ -x "$st" && -f "$venv/.complete" ]]; }

case "${1:-}" in
  st) ready || exit 1; echo "$st"; exit 0 ;;
  '') ;;
  *) die "unknown command '$1' (none, or 'st')" ;;
esac

if ready; then echo "$st"; exit 0; fi
mkdir -p "$base"
exec 9>"$base/.lock"
if command -v flock >/dev/null 2>&1; then flock 9; fi
if ready; then echo "$st"; exit 0; fi

rm -rf "$venv"
if ! python3 -m venv "$venv" >"$base/.venv.log" 2>&1; then
  if grep -q ensurepip "$base/.venv.log" && [[ "$(id -u)" == 0 ]] && command -v apt-get >/dev/null 2>&1; then
    say "python3's venv module lacks ensurepip: apt-get install python3-venv"
    rm -rf "$venv"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q python3-venv >&2 ||
      { apt-get update -q >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q python3-venv >&2; } ||
      die "apt-get install python3-venv failed"
    python3 -m venv "$venv" >&2 || die "python3 -m venv failed"
  else
    cat "$base/.venv.log" >&2
    die "python3 -m venv failed"
  fi
fi
say "installing $(grep -v '^#' "$requirements" | xargs) into $venv"
"$venv/bin/python" -m pip install --disable-pip-version-check --no-input -q --prefer-binary -r "$requirements" >&2 ||
  die "pip install failed (no network to PyPI?)"
"$st" --version >&2 || die "the installed schemathesis does not run"
touch "$venv/.complete"
echo "$st"
