#!/usr/bin/env bash
# The Python venv of the reference tools (MET Norway's titanlib and gridpp, pinned in requirements.txt
# beside this script): for the reference tests and the QC comparison only, never the product's runtime.
#
#   bash infra/reference/venv.sh          # create it if missing; prints the venv's python on the last line
#   bash infra/reference/venv.sh python   # print the venv's python if it exists (exit 1 if not)
#
# The venv lives outside the checkout, shared by every clone on the machine, one per interpreter and
# set of pins: ${XDG_CACHE_HOME:-$HOME/.cache}/hyperlocal-nowcast/reference-venv/<python version>-<hash>,
# where the hash covers requirements.txt and the interpreter's version and prefix. It is built under a
# lock and marked complete last, so concurrent callers never use half a venv.
# The interpreter is python3 on PATH. Where its venv module lacks ensurepip (Debian without
# python3-venv) and we are root, python3-venv is apt-get installed.
set -euo pipefail

script_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
requirements="$script_dir/requirements.txt"
base="${XDG_CACHE_HOME:-$HOME/.cache}/hyperlocal-nowcast/reference-venv"

die() { echo "venv.sh: $*" >&2; exit 1; }
say() { echo "venv.sh: $*" >&2; }

command -v python3 >/dev/null 2>&1 || die "python3 is not on PATH"
ident="$(python3 -c 'import sys, platform; print(platform.python_version(), sys.base_prefix, platform.machine())')" ||
  die "python3 does not run"
version="${ident%% *}"
hash="$( { printf '%s\n' "$ident"; cat "$requirements"; } | sha256sum | cut -c1-12)"
venv="$base/$version-$hash"
python="$venv/bin/python"

ready() { [[ -x "$python" && -f "$venv/.complete" ]]; }

if [[ "${1:-}" == "python" ]]; then
  ready || exit 1
  echo "$python"
  exit 0
fi
[[ -z "${1:-}" ]] || die "unknown command '$1' (none, or 'python')"

if ready; then
  echo "$python"
  exit 0
fi

mkdir -p "$base"
exec 9>"$base/.lock"
if command -v flock >/dev/null 2>&1; then flock 9; fi
if ready; then # made by another caller while we waited
  echo "$python"
  exit 0
fi

# Built in place under the lock; readers see it only once .complete exists.
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
# Binary wheels only: a pin without a wheel for this interpreter is an error here, not a long build.
"$python" -m pip install --disable-pip-version-check --no-input -q --only-binary=:all: -r "$requirements" >&2 ||
  die "pip install failed (no network to PyPI, or no wheel of a pinned version for python $version on $(uname -m))"
"$python" -c 'import titanlib, gridpp' >&2 || die "the installed titanlib and gridpp do not import"
touch "$venv/.complete"
echo "$python"
