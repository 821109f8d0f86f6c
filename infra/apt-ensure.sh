#!/usr/bin/env bash
# Installs Debian packages unless a file they provide is already there; idempotent.
# Usage: bash infra/apt-ensure.sh <file that proves them installed> <package>...
# Runs apt-get as root (through sudo when not root), non-interactive, without recommended packages.
set -euo pipefail
if [ "$#" -lt 2 ]; then
  echo "usage: $0 <file> <package>..." >&2
  exit 2
fi
proof="$1"
shift
if [ -e "$proof" ]; then exit 0; fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "$@"
if [ ! -e "$proof" ]; then
  echo "$0: $* installed, but $proof is still missing" >&2
  exit 1
fi
