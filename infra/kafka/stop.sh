#!/usr/bin/env bash
# Stops the broker started by start.sh for KAFKA_PORT / KAFKA_DATA_DIR: TERM, then KILL after 20 s.
set -euo pipefail
KAFKA_PORT="${KAFKA_PORT:-9092}"
KAFKA_DATA_DIR="${KAFKA_DATA_DIR:-${TMPDIR:-/tmp}/lifeline-kafka-$KAFKA_PORT}"
KAFKA_STOP_TIMEOUT="${KAFKA_STOP_TIMEOUT:-20}"
PID_FILE="$KAFKA_DATA_DIR/kafka.pid"
log() { echo "[kafka:$KAFKA_PORT] $*" >&2; }

if [[ ! -f "$PID_FILE" ]]; then
  log "no pid file at $PID_FILE: nothing to stop"
  exit 0
fi
PID="$(cat "$PID_FILE")"
if ! kill -0 "$PID" 2>/dev/null; then
  log "pid $PID is not running"
  rm -f "$PID_FILE"
  exit 0
fi
kill -TERM "$PID"
deadline=$((SECONDS + KAFKA_STOP_TIMEOUT))
while kill -0 "$PID" 2>/dev/null; do
  if ((SECONDS >= deadline)); then
    log "pid $PID still running after ${KAFKA_STOP_TIMEOUT}s: KILL"
    kill -KILL "$PID" 2>/dev/null || true
    break
  fi
  sleep 0.2
done
rm -f "$PID_FILE"
log "stopped (pid $PID)"
