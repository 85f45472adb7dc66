#!/usr/bin/env bash
# Ensures a throw-away PostgreSQL cluster listens on 127.0.0.1:$PG_PORT with a database `lifeline`, for tests and
# local runs. No Docker, no systemd, no root-owned service: initdb + pg_ctl from Debian's postgresql package.
#   PG_PORT (54329), PG_DATA_DIR (${TMPDIR:-/tmp}/lifeline-postgres-$PG_PORT), PG_BIN (the newest
#   /usr/lib/postgresql/*/bin, else where initdb is on PATH), PG_OS_USER (postgres: who runs the server when this
#   script runs as root, which PostgreSQL refuses), PG_START_TIMEOUT (30 s).
# Trust authentication on 127.0.0.1 only: a test cluster, never a deployment. Prints the connection URL.
# Idempotent: if something already answers on the port it says so and exits 0. Restarts reuse the data dir.
set -euo pipefail

PG_PORT="${PG_PORT:-54329}"
PG_DATA_DIR="${PG_DATA_DIR:-${TMPDIR:-/tmp}/lifeline-postgres-$PG_PORT}"
PG_START_TIMEOUT="${PG_START_TIMEOUT:-30}"
PG_OS_USER="${PG_OS_USER:-postgres}"
URL="postgres://postgres@127.0.0.1:$PG_PORT/lifeline"

log() { echo "[postgres:$PG_PORT] $*" >&2; }
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

if port_open "$PG_PORT"; then
  log "something already answers on 127.0.0.1:$PG_PORT; leaving it as it is"
  echo "$URL"
  exit 0
fi

if [[ -z "${PG_BIN:-}" ]]; then
  PG_BIN="$(find /usr/lib/postgresql -mindepth 2 -maxdepth 2 -type d -name bin 2>/dev/null | sort -V | tail -1)"
  [[ -n "$PG_BIN" ]] || PG_BIN="$(dirname "$(command -v initdb 2>/dev/null || echo /nonexistent/initdb)")"
fi
[[ -x "$PG_BIN/initdb" && -x "$PG_BIN/pg_ctl" ]] \
  || { log "initdb/pg_ctl not found (PG_BIN=$PG_BIN): apt-get install postgresql"; exit 1; }

# PostgreSQL will not run as root: as root, the cluster belongs to PG_OS_USER (Debian's package creates `postgres`).
as_owner() { "$@"; }
if [[ "$(id -u)" -eq 0 ]]; then
  id "$PG_OS_USER" >/dev/null 2>&1 || { log "running as root and there is no user $PG_OS_USER to run the server"; exit 1; }
  as_owner() { runuser -u "$PG_OS_USER" -- "$@"; }
fi

mkdir -p "$PG_DATA_DIR"
[[ "$(id -u)" -ne 0 ]] || chown "$PG_OS_USER" "$PG_DATA_DIR"
chmod 700 "$PG_DATA_DIR"
if [[ ! -f "$PG_DATA_DIR/PG_VERSION" ]]; then
  log "initdb into $PG_DATA_DIR"
  as_owner "$PG_BIN/initdb" -D "$PG_DATA_DIR" --username=postgres --auth=trust --encoding=UTF8 --locale=C.UTF-8 \
    >"$PG_DATA_DIR.initdb.log" 2>&1 || { cat "$PG_DATA_DIR.initdb.log" >&2; exit 1; }
fi

# The socket lives in the data dir (Debian's /var/run/postgresql belongs to the system cluster).
log "starting from $PG_DATA_DIR"
as_owner "$PG_BIN/pg_ctl" -D "$PG_DATA_DIR" -l "$PG_DATA_DIR/server.log" -w -t "$PG_START_TIMEOUT" \
  -o "-c listen_addresses=127.0.0.1 -p $PG_PORT -c unix_socket_directories=$PG_DATA_DIR -c max_connections=200 -c synchronous_commit=off" \
  start >/dev/null || { tail -n 30 "$PG_DATA_DIR/server.log" >&2; exit 1; }

psql_() { as_owner "$PG_BIN/psql" -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres -qAt "$@"; }
if [[ "$(psql_ -c "SELECT 1 FROM pg_database WHERE datname = 'lifeline'")" != 1 ]]; then
  psql_ -c 'CREATE DATABASE lifeline' >/dev/null
fi
log "ready: $URL"
echo "$URL"
