#!/usr/bin/env bash
# Stops the cluster started by start.sh for PG_PORT / PG_DATA_DIR (fast shutdown). PG_REMOVE_DATA=1 also deletes
# the data dir (a throw-away test cluster).
set -euo pipefail
PG_PORT="${PG_PORT:-54329}"
PG_DATA_DIR="${PG_DATA_DIR:-${TMPDIR:-/tmp}/lifeline-postgres-$PG_PORT}"
PG_OS_USER="${PG_OS_USER:-postgres}"
log() { echo "[postgres:$PG_PORT] $*" >&2; }

if [[ -z "${PG_BIN:-}" ]]; then
  PG_BIN="$(find /usr/lib/postgresql -mindepth 2 -maxdepth 2 -type d -name bin 2>/dev/null | sort -V | tail -1)"
  [[ -n "$PG_BIN" ]] || PG_BIN="$(dirname "$(command -v pg_ctl 2>/dev/null || echo /nonexistent/pg_ctl)")"
fi
as_owner() { "$@"; }
[[ "$(id -u)" -ne 0 ]] || as_owner() { runuser -u "$PG_OS_USER" -- "$@"; }

if [[ -f "$PG_DATA_DIR/postmaster.pid" ]]; then
  as_owner "$PG_BIN/pg_ctl" -D "$PG_DATA_DIR" -m fast -w stop >/dev/null && log "stopped ($PG_DATA_DIR)"
else
  log "no server running from $PG_DATA_DIR: nothing to stop"
fi
if [[ "${PG_REMOVE_DATA:-0}" == 1 ]]; then
  rm -rf "$PG_DATA_DIR" "$PG_DATA_DIR.initdb.log"
  log "removed $PG_DATA_DIR"
fi
