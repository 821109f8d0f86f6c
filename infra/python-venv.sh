#!/usr/bin/env bash
# A pinned Python venv for a test or comparison tool, never the product's runtime.
#
#   bash infra/python-venv.sh [--peek] <name> <requirements.txt> <exe> <wheels> -- <check args...>
#
# <exe> is the venv's bin/ program whose path is printed on the last line; <wheels> is `only` (binary
# wheels only: a pin without a wheel is an error here, not a long build) or `prefer`; the check runs
# `<exe> <check args...>` once the pins are installed. With --peek: print the path if the venv is
# complete, else exit 1 (nothing is built).
#
# The venv lives outside the checkout, shared by every clone on the machine, one per interpreter and
# set of pins: ${XDG_CACHE_HOME:-$HOME/.cache}/hyperlocal-nowcast/<name>/<python version>-<hash>, the
# hash covering the requirements and the interpreter's version and prefix. It is built under a lock and
# marked complete last, so concurrent callers never use half a venv. The interpreter is python3 on PATH;
# where its venv module lacks ensurepip (Debian without python3-venv) and we are root, python3-venv is
# apt-get installed.
set -euo pipefail

die() { echo "python-venv.sh: $*" >&2; exit 1; }
say() { echo "python-venv.sh: $*" >&2; }

peek=0
if [[ "${1:-}" == "--peek" ]]; then peek=1; shift; fi
[[ $# -ge 5 && "$5" == "--" ]] || die "usage: python-venv.sh [--peek] <name> <requirements.txt> <exe> <only|prefer> -- <check args...>"
name="$1" requirements="$2" exe="$3" wheels="$4"
shift 5
check=("$@")
case "$wheels" in
  only) pip_wheels=(--only-binary=:all:) ;;
  prefer) pip_wheels=(--prefer-binary) ;;
  *) die "wheels must be 'only' or 'prefer', got '$wheels'" ;;
esac
base="${XDG_CACHE_HOME:-$HOME/.cache}/hyperlocal-nowcast/$name"

command -v python3 >/dev/null 2>&1 || die "python3 is not on PATH"
ident="$(python3 -c 'import sys, platform; print(platform.python_version(), sys.base_prefix, platform.machine())')" ||
  die "python3 does not run"
version="${ident%% *}"
hash="$( { printf '%s\n' "$ident"; cat "$requirements"; } | sha256sum | cut -c1-12)"
venv="$base/$version-$hash"
path="$venv/bin/$exe"

ready() { [[ -x "$path" && -f "$venv/.complete" ]]; }

if [[ $peek == 1 ]]; then ready || exit 1; echo "$path"; exit 0; fi
if ready; then echo "$path"; exit 0; fi
mkdir -p "$base"
exec 9>"$base/.lock"
if command -v flock >/dev/null 2>&1; then flock 9; fi
if ready; then echo "$path"; exit 0; fi # made by another caller while we waited

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
"$venv/bin/python" -m pip install --disable-pip-version-check --no-input -q "${pip_wheels[@]}" -r "$requirements" >&2 ||
  die "pip install failed (no network to PyPI, or no usable wheel of a pinned version for python $version on $(uname -m))"
"$path" "${check[@]}" >&2 || die "the installed $name does not pass its check ($exe ${check[*]})"
touch "$venv/.complete"
echo "$path"
