#!/usr/bin/env bash
# A TimescaleDB server for tests and local use: Debian's PostgreSQL 15 with TimescaleDB built from
# the vendored source, as a throwaway cluster on 127.0.0.1 owned by a non-superuser role.
#
#   bash infra/timescaledb/timescaledb.sh check    # exit 0 if this machine can run it, else the reason (exit 3)
#   bash infra/timescaledb/timescaledb.sh build    # apt-get what is missing; build TimescaleDB once (cached); install it
#   bash infra/timescaledb/timescaledb.sh start    # build, create the cluster once, start, wait until it serves clients
#   bash infra/timescaledb/timescaledb.sh stop     # fast shutdown (clients disconnected, data kept)
#   bash infra/timescaledb/timescaledb.sh status   # exit 0 if running
#   bash infra/timescaledb/timescaledb.sh url      # print STORE_URL=postgres://…
#   bash infra/timescaledb/timescaledb.sh reset    # stop and delete the cluster's data directory
#
# Environment (defaults): TSDB_PORT (15432), TSDB_USER (nowcast), TSDB_PASSWORD (nowcast),
# TSDB_DATABASE (nowcast), TSDB_DATA_DIR (${TMPDIR:-/tmp}/nowcast-timescaledb-$TSDB_PORT),
# TSDB_CACHE_DIR (${XDG_CACHE_HOME:-$HOME/.cache}/hyperlocal-nowcast/timescaledb),
# TSDB_PG_BINDIR (/usr/lib/postgresql/15/bin), TIMESCALEDB_VERSION (2.28.3),
# TSDB_SOURCE (<project>/../shared/vendor/timescaledb-$TIMESCALEDB_VERSION.tar.gz),
# TSDB_SOURCE_SHA256 (the vendored 2.28.3 archive's), TSDB_BUILD_JOBS (nproc), TSDB_START_TIMEOUT_S (60),
# TSDB_PRELOAD (timescaledb: shared_preload_libraries at start; '' runs a server without TimescaleDB loaded).
#
# The role owns its database and may create databases (tests make one per suite); it is not a superuser.
# The build is keyed on the TimescaleDB version, the exact `postgres --version` and the architecture
# (a build for one PostgreSQL minor version does not load into another). Run as root, the server runs
# as the `postgres` system user (PostgreSQL refuses to run as root). Works from any cwd.
set -euo pipefail

script_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$script_dir/../.." && pwd)"

pg_major=15
version="${TIMESCALEDB_VERSION:-2.28.3}"
port="${TSDB_PORT:-15432}"
db_user="${TSDB_USER:-nowcast}"
db_password="${TSDB_PASSWORD:-nowcast}"
db_name="${TSDB_DATABASE:-nowcast}"
data="${TSDB_DATA_DIR:-${TMPDIR:-/tmp}/nowcast-timescaledb-$port}"
cache_root="${TSDB_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/hyperlocal-nowcast/timescaledb}"
bindir="${TSDB_PG_BINDIR:-/usr/lib/postgresql/$pg_major/bin}"
source_tgz="${TSDB_SOURCE:-$root/../shared/vendor/timescaledb-$version.tar.gz}"
start_timeout_s="${TSDB_START_TIMEOUT_S:-60}"
preload="${TSDB_PRELOAD-timescaledb}"
build_jobs="${TSDB_BUILD_JOBS:-$(nproc 2>/dev/null || echo 2)}"
# sha256 of the vendored archive (see ../shared/vendor/SOURCE.md); other versions: set TSDB_SOURCE_SHA256.
if [[ "$version" == 2.28.3 ]]; then
  source_sha256="${TSDB_SOURCE_SHA256:-c80abd42995a317d9c046da6499a7a6e63c58e188124a2f20580f7c82fa4b801}"
else
  source_sha256="${TSDB_SOURCE_SHA256:-}"
fi
superuser=postgres # the cluster's bootstrap superuser: reachable only over the data directory's socket
log_file="$data/server.log"
build_packages=(cmake build-essential libssl-dev libkrb5-dev)

die() { echo "timescaledb.sh: $*" >&2; exit 1; }
say() { echo "timescaledb.sh: $*"; }
# A reason this machine cannot run the server (exit 3: callers such as the test helper skip on it).
cannot() { echo "timescaledb.sh: cannot run here: $*" >&2; exit 3; }

[[ "$port" =~ ^[0-9]+$ ]] && ((port > 0 && port < 65536)) || die "TSDB_PORT must be a port number, got '$port'"
[[ "$db_user" =~ ^[a-z_][a-z0-9_]*$ ]] || die "TSDB_USER must be a plain lower-case identifier, got '$db_user'"
[[ "$db_name" =~ ^[a-z_][a-z0-9_]*$ ]] || die "TSDB_DATABASE must be a plain lower-case identifier, got '$db_name'"
[[ "$db_user" != "$superuser" ]] || die "TSDB_USER must not be '$superuser' (the cluster's superuser)"

is_root() { [[ "$(id -u)" == 0 ]]; }
# True if something accepts TCP connections on 127.0.0.1:$1.
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
pkg_version() { { dpkg-query -W -f='${db:Status-Abbrev} ${Version}\n' "$1" 2>/dev/null || true; } | awk '$1 == "ii" { print $2 }'; }

# The OS user the server runs as: root may not run PostgreSQL, so root hands it to `postgres`.
os_user() { if is_root; then echo postgres; else id -un; fi; }
run_as=()
if is_root; then run_as=(runuser -u postgres --); fi
as_server_user() { "${run_as[@]}" "$@"; }

# Serialises build/install across checkouts (one cache) and start/stop per data directory.
lock_build() {
  mkdir -p "$cache_root"
  exec 8>"$cache_root/.lock"
  if command -v flock >/dev/null 2>&1; then flock 8; fi
}
lock_cluster() {
  mkdir -p "$(dirname "$data")"
  exec 9>"$data.lock"
  if command -v flock >/dev/null 2>&1; then flock 9; fi
}

apt_install() {
  command -v apt-get >/dev/null 2>&1 || die "apt-get is not available; install these Debian packages by other means: $*"
  is_root || die "installing $* needs root (apt-get)"
  say "apt-get install $*"
  export DEBIAN_FRONTEND=noninteractive
  if ! apt-get install -y -q --no-install-recommends "$@"; then
    say "apt-get install failed; updating the package lists and trying again"
    apt-get update -q
    apt-get install -y -q --no-install-recommends "$@"
  fi
}

# PostgreSQL 15 and its server headers, at one and the same version (a mismatch builds an extension
# that does not load). An installed server is kept: the headers of its exact version are installed,
# from the archive. Only if that version has left the archive are both upgraded to the candidate.
ensure_postgres() {
  local server dev
  server="$(pkg_version "postgresql-$pg_major")"
  dev="$(pkg_version "postgresql-server-dev-$pg_major")"
  if [[ -z "$server" ]]; then
    apt_install "postgresql-$pg_major" "postgresql-server-dev-$pg_major"
  elif [[ "$dev" != "$server" ]]; then
    if ! apt_install "postgresql-server-dev-$pg_major=$server" 2>/dev/null; then
      say "postgresql-server-dev-$pg_major $server is not in the archive; upgrading PostgreSQL $pg_major to the archive's version"
      apt_install "postgresql-$pg_major" "postgresql-server-dev-$pg_major"
    fi
  fi
  server="$(pkg_version "postgresql-$pg_major")"
  dev="$(pkg_version "postgresql-server-dev-$pg_major")"
  [[ -n "$server" && "$server" == "$dev" ]] || die "postgresql-$pg_major ($server) and postgresql-server-dev-$pg_major ($dev) differ"
}

ensure_build_tools() {
  local missing=() p
  for p in "${build_packages[@]}"; do [[ -n "$(pkg_version "$p")" ]] || missing+=("$p"); done
  ((${#missing[@]} == 0)) || apt_install "${missing[@]}"
}

postgres_version() { "$bindir/postgres" --version; }

# The build cache's entry for this TimescaleDB version, PostgreSQL build and architecture.
cache_entry() {
  local pgv slug
  pgv="$(postgres_version)"
  slug="$(printf '%s' "$pgv" | sed -E 's/[^A-Za-z0-9.+]+/-/g; s/^-+|-+$//g')"
  echo "$cache_root/timescaledb-${version}_${slug}_$(uname -m)"
}

# Files of a cached build, relative to / (e.g. usr/lib/postgresql/15/lib/timescaledb-2.28.3.so).
staged_files() { (cd "$1/stage" && find . -type f | sed 's|^\./||' | sort); }

# True if every file of the cached build is installed, byte for byte.
installed() {
  local entry="$1" f
  [[ -f "$entry/.complete" ]] || return 1
  while IFS= read -r f; do cmp -s "$entry/stage/$f" "/$f" || return 1; done < <(staged_files "$entry")
}

build() {
  local entry="$1" src_parent src build_log
  [[ -f "$source_tgz" ]] || die "no TimescaleDB source: $source_tgz is missing (the project expects the vendored archive at ../shared/vendor/timescaledb-$version.tar.gz beside the checkout; set TSDB_SOURCE to another copy)"
  if [[ -n "$source_sha256" ]]; then
    echo "$source_sha256  $source_tgz" | sha256sum -c --status - || die "$source_tgz does not have sha256 $source_sha256"
  fi
  ensure_build_tools
  src_parent="$(mktemp -d "$cache_root/build.XXXXXX")"
  build_log="$cache_root/build.log"
  say "building TimescaleDB $version for $(postgres_version) on $(uname -m) (a few minutes; log: $build_log)"
  tar -xzf "$source_tgz" -C "$src_parent"
  src="$(find "$src_parent" -mindepth 1 -maxdepth 1 -type d | head -n 1)"
  if ! {
    cmake -S "$src" -B "$src/build" -DPG_CONFIG="$bindir/pg_config" -DCMAKE_BUILD_TYPE=Release \
      -DREGRESS_CHECKS=OFF -DTAP_CHECKS=OFF -DWARNINGS_AS_ERRORS=OFF -DLINTER=OFF -DUSE_TELEMETRY=OFF \
      -DSEND_TELEMETRY_DEFAULT=OFF &&
      make -C "$src/build" -j"$build_jobs" &&
      make -C "$src/build" install DESTDIR="$src_parent/stage"
  } >"$build_log" 2>&1; then
    tail -n 40 "$build_log" >&2
    rm -rf "$src_parent"
    die "the TimescaleDB build failed (log: $build_log)"
  fi
  rm -rf "$entry"
  mkdir -p "$entry"
  mv "$src_parent/stage" "$entry/stage"
  { echo "timescaledb $version"; postgres_version; uname -m; date -u +%FT%TZ; } >"$entry/key.txt"
  touch "$entry/.complete"
  rm -rf "$src_parent"
  say "cached in $entry"
}

install_build() {
  local entry="$1" f
  say "installing TimescaleDB $version into PostgreSQL $pg_major"
  while IFS= read -r f; do
    install -D -m 0644 "$entry/stage/$f" "/$f" || die "could not install /$f (run as root)"
  done < <(staged_files "$entry")
}

# True if TimescaleDB $version is installed into PostgreSQL's directories (by whoever installed it).
system_has_version() {
  [[ -f "$(pkglibdir)/timescaledb-$version.so" ]] &&
    grep -qE "^default_version *= *'$version'" "$(extensiondir)/timescaledb.control" 2>/dev/null
}

# apt-get what is missing, build once (or take the cached build), install if not installed.
# Without root, a TimescaleDB $version already installed (e.g. by root before) is used as it is.
ensure_extension() {
  if is_root; then ensure_postgres; fi
  [[ -x "$bindir/postgres" ]] || die "$bindir/postgres not found (PostgreSQL $pg_major; run as root to apt-get it)"
  if ! is_root && system_has_version; then return 0; fi
  lock_build
  local entry
  entry="$(cache_entry)"
  if [[ ! -f "$entry/.complete" ]]; then
    [[ -x "$bindir/pg_config" ]] || die "$bindir/pg_config not found (postgresql-server-dev-$pg_major; run as root to apt-get it)"
    build "$entry"
  fi
  installed "$entry" || install_build "$entry"
  exec 8>&-
}

# PostgreSQL's directories for extension files (where `make install` puts them).
pkglibdir() { if [[ -x "$bindir/pg_config" ]]; then "$bindir/pg_config" --pkglibdir; else echo "/usr/lib/postgresql/$pg_major/lib"; fi; }
extensiondir() { if [[ -x "$bindir/pg_config" ]]; then echo "$("$bindir/pg_config" --sharedir)/extension"; else echo "/usr/share/postgresql/$pg_major/extension"; fi; }

# Exits 3 with the reason if this machine cannot run the server; mirrors what ensure_extension needs.
check() {
  local entry p
  if is_root; then
    [[ -x "$bindir/postgres" ]] || command -v apt-get >/dev/null 2>&1 ||
      cannot "PostgreSQL $pg_major is not installed ($bindir/postgres) and apt-get is not available"
    if [[ ! -f "$source_tgz" ]] && { [[ ! -x "$bindir/postgres" ]] || [[ ! -f "$(cache_entry)/.complete" ]]; }; then
      cannot "no TimescaleDB source: $source_tgz is missing (the vendored archive is expected at ../shared/vendor/ beside the checkout) and no cached build in $cache_root"
    fi
    return 0
  fi
  [[ -x "$bindir/postgres" ]] || cannot "PostgreSQL $pg_major is not installed ($bindir/postgres) and installing it needs root (apt-get)"
  if system_has_version; then return 0; fi
  entry="$(cache_entry)"
  if [[ -f "$entry/.complete" ]] && installed "$entry"; then return 0; fi
  if [[ ! -f "$entry/.complete" ]]; then
    [[ -f "$source_tgz" ]] || cannot "no TimescaleDB source ($source_tgz is missing) and no cached build in $cache_root"
    [[ -x "$bindir/pg_config" ]] || cannot "postgresql-server-dev-$pg_major is not installed and installing it needs root (apt-get)"
    for p in "${build_packages[@]}"; do [[ -n "$(pkg_version "$p")" ]] || cannot "the build needs the Debian package $p, and installing it needs root (apt-get)"; done
  fi
  [[ -w "$(pkglibdir)" && -w "$(extensiondir)" ]] || cannot "installing TimescaleDB into $(pkglibdir) and $(extensiondir) needs root"
}

store_url() { echo "postgres://$db_user:$db_password@127.0.0.1:$port/$db_name"; }

# Pid of the postmaster of our data directory if it is alive, else nothing.
server_pid() {
  [[ -f "$data/postmaster.pid" ]] || return 0
  local pid
  pid="$(head -n 1 "$data/postmaster.pid" 2>/dev/null || true)"
  if [[ "$pid" =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null &&
    { [[ ! -r "/proc/$pid/cmdline" ]] || grep -qa 'postgres' "/proc/$pid/cmdline"; }; then
    echo "$pid"
  fi
}

psql_super() {
  as_server_user "$bindir/psql" -X -q -v ON_ERROR_STOP=1 -h "$data" -p "$port" -U "$superuser" "$@"
}

create_cluster() {
  say "creating a cluster in $data (PostgreSQL $pg_major, port $port, run by $(os_user))"
  mkdir -p "$data"
  chmod 0700 "$data"
  if is_root; then chown postgres:postgres "$data"; fi
  as_server_user "$bindir/initdb" -D "$data" -U "$superuser" -E UTF8 --no-locale \
    --auth-local=trust --auth-host=scram-sha-256 >"$data.initdb.log" 2>&1 ||
    { tail -n 20 "$data.initdb.log" >&2; die "initdb failed (log: $data.initdb.log)"; }
  rm -f "$data.initdb.log"
  # Appended settings win over the defaults above them; only this script writes the file.
  as_server_user tee -a "$data/postgresql.conf" >/dev/null <<EOF

# Written by infra/timescaledb/timescaledb.sh
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$data'
max_connections = 200
shared_preload_libraries = 'timescaledb'
timescaledb.telemetry_level = off
password_encryption = scram-sha-256
logging_collector = off
log_min_messages = warning
EOF
  as_server_user tee "$data/pg_hba.conf" >/dev/null <<EOF
# Written by infra/timescaledb/timescaledb.sh: the superuser only over the data directory's socket,
# everyone else over TCP on 127.0.0.1 with a password.
local all $superuser trust
host  all all 127.0.0.1/32 scram-sha-256
EOF
}

# The application's role (not a superuser; may create databases) owning its database.
ensure_role() {
  local pw_sql
  pw_sql="${db_password//\'/\'\'}"
  psql_super -d postgres <<EOF
SELECT format('CREATE ROLE %I LOGIN', '$db_user') WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$db_user') \gexec
ALTER ROLE "$db_user" LOGIN NOSUPERUSER CREATEDB NOCREATEROLE PASSWORD '$pw_sql';
SELECT format('CREATE DATABASE %I OWNER %I', '$db_name', '$db_user') WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = '$db_name') \gexec
EOF
  # The extension must be loaded: check it here, so a broken build fails at start, not in a test.
  [[ "$preload" == *timescaledb* ]] || return 0
  psql_super -d "$db_name" -t -A -c "SELECT current_setting('timescaledb.disable_load', true) IS NOT NULL
    FROM pg_available_extensions WHERE name = 'timescaledb' AND default_version = '$version'" |
    grep -qx t || die "TimescaleDB $version is not loaded by the server (see $log_file)"
}

start() {
  ensure_extension
  lock_cluster
  local pid
  pid="$(server_pid)"
  if [[ -n "$pid" ]]; then
    if port_open "$port"; then
      ensure_role
      say "already running (pid $pid) on 127.0.0.1:$port"
      echo "STORE_URL=$(store_url)"
      return 0
    fi
    die "a server (pid $pid) runs on $data but 127.0.0.1:$port is not open; stop it first"
  fi
  if port_open "$port"; then
    die "port $port is in use by a process this script did not start from $data; set TSDB_PORT to another port"
  fi
  if [[ ! -f "$data/PG_VERSION" ]]; then
    create_cluster
  elif [[ "$(cat "$data/PG_VERSION")" != "$pg_major" ]]; then
    die "$data holds a PostgreSQL $(cat "$data/PG_VERSION") cluster, not $pg_major; run '$0 reset' or set TSDB_DATA_DIR"
  fi
  if [[ -f "$log_file" ]]; then as_server_user mv -f "$log_file" "$log_file.1"; fi # one previous run's log is kept
  say "starting PostgreSQL $pg_major with TimescaleDB $version on 127.0.0.1:$port (log: $log_file)"
  # setsid: the server outlives the calling shell and its process group (it is a daemon for tests).
  # 9>&-: it must not inherit the lock, or the next stop/start would wait for the server to exit.
  if ! setsid --wait "${run_as[@]}" "$bindir/pg_ctl" start -D "$data" -l "$log_file" -w -t "$start_timeout_s" -s \
    -o "-c shared_preload_libraries='$preload'" </dev/null 9>&-; then
    tail -n 30 "$log_file" >&2 || true
    die "the server did not start within ${start_timeout_s}s (log: $log_file)"
  fi
  ensure_role
  say "ready (pid $(server_pid))"
  echo "STORE_URL=$(store_url)"
}

stop() {
  lock_cluster
  local pid
  pid="$(server_pid)"
  if [[ -z "$pid" ]]; then
    say "not running"
    return 0
  fi
  say "stopping the server (pid $pid)"
  # fast: disconnects clients and shuts down cleanly (no recovery needed at the next start).
  as_server_user "$bindir/pg_ctl" stop -D "$data" -m fast -w -t 60 -s ||
    { say "no clean stop within 60 s; immediate"; as_server_user "$bindir/pg_ctl" stop -D "$data" -m immediate -w -s || true; }
  say "stopped"
}

status() {
  local pid
  pid="$(server_pid)"
  if [[ -n "$pid" ]] && port_open "$port"; then
    say "running (pid $pid) on 127.0.0.1:$port, data in $data"
    return 0
  fi
  if [[ -n "$pid" ]]; then say "process $pid alive but 127.0.0.1:$port not open (starting?)"; else say "not running"; fi
  return 1
}

reset() {
  stop
  lock_cluster
  say "deleting $data"
  rm -rf "$data" "$data.lock"
}

case "${1:-}" in
  check) check; say "can run here" ;;
  build) ensure_extension; say "TimescaleDB $version is installed for $(postgres_version)" ;;
  start) start ;;
  stop) stop ;;
  status) status ;;
  url) echo "STORE_URL=$(store_url)" ;;
  reset) reset ;;
  *) echo "usage: $0 check|build|start|stop|status|url|reset" >&2; exit 2 ;;
esac
