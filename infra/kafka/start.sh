#!/usr/bin/env bash
# Ensures a single-node Apache Kafka (KRaft, broker+controller) is listening on 127.0.0.1:$KAFKA_PORT.
# No Docker: the broker jars come from Maven Central into a cache outside git, and run on the local JDK.
#   KAFKA_PORT (9092), KAFKA_CONTROLLER_PORT (9093), KAFKA_DATA_DIR (${TMPDIR:-/tmp}/lifeline-kafka-$KAFKA_PORT),
#   LIFELINE_CACHE_DIR ($HOME/.cache/lifeline), KAFKA_HEAP_OPTS (-Xmx512m -Xms256m), KAFKA_START_TIMEOUT (90 s),
#   KAFKA_AUTO_CREATE_TOPICS (false, like a production broker: Lifeline and the tests create their topics;
#   true: the broker creates a topic the first time a client names it).
# Idempotent: if something already answers on the port it says so and exits 0. Restarts reuse the data dir.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
KAFKA_VERSION="$(sed -n 's|.*<kafka.version>\(.*\)</kafka.version>.*|\1|p' "$HERE/pom.xml")"
KAFKA_PORT="${KAFKA_PORT:-9092}"
KAFKA_CONTROLLER_PORT="${KAFKA_CONTROLLER_PORT:-9093}"
KAFKA_DATA_DIR="${KAFKA_DATA_DIR:-${TMPDIR:-/tmp}/lifeline-kafka-$KAFKA_PORT}"
KAFKA_HEAP_OPTS="${KAFKA_HEAP_OPTS:--Xmx512m -Xms256m}"
KAFKA_START_TIMEOUT="${KAFKA_START_TIMEOUT:-90}"
KAFKA_AUTO_CREATE_TOPICS="${KAFKA_AUTO_CREATE_TOPICS:-false}"
[[ "$KAFKA_AUTO_CREATE_TOPICS" == true || "$KAFKA_AUTO_CREATE_TOPICS" == false ]] \
  || { echo "KAFKA_AUTO_CREATE_TOPICS must be true or false, not $KAFKA_AUTO_CREATE_TOPICS" >&2; exit 1; }
CACHE_DIR="${LIFELINE_CACHE_DIR:-$HOME/.cache/lifeline}"
LIBS="$CACHE_DIR/kafka-$KAFKA_VERSION/libs"
BROKER="127.0.0.1:$KAFKA_PORT"

log() { echo "[kafka:$KAFKA_PORT] $*" >&2; }

partitions() { find "$KAFKA_DATA_DIR/data" -mindepth 1 -maxdepth 1 -type d 2>/dev/null | wc -l; }

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

if port_open "$KAFKA_PORT"; then
  log "something already answers on $BROKER; leaving it as it is"
  echo "$BROKER"
  exit 0
fi

command -v java >/dev/null || { log "java not found (Java 17+ is needed)"; exit 1; }

if ! ls "$LIBS"/kafka_2.13-"$KAFKA_VERSION".jar >/dev/null 2>&1; then
  command -v mvn >/dev/null || { log "mvn not found: needed once to download the Kafka jars into $LIBS"; exit 1; }
  log "downloading Kafka $KAFKA_VERSION jars into $LIBS (once)"
  mkdir -p "$LIBS"
  mvn -q -f "$HERE/pom.xml" dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$LIBS"
fi

mkdir -p "$KAFKA_DATA_DIR/logs"
PID_FILE="$KAFKA_DATA_DIR/kafka.pid"
if [[ -f "$PID_FILE" ]] && kill -0 "$(cat "$PID_FILE")" 2>/dev/null; then
  log "a broker (pid $(cat "$PID_FILE")) is already starting from $KAFKA_DATA_DIR; waiting for it"
else
  PROPS="$KAFKA_DATA_DIR/server.properties"
  cat >"$PROPS" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$KAFKA_CONTROLLER_PORT
listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT,CONTROLLER://127.0.0.1:$KAFKA_CONTROLLER_PORT
advertised.listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=$KAFKA_DATA_DIR/data
metadata.log.dir=$KAFKA_DATA_DIR/metadata
num.partitions=4
default.replication.factor=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=4
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=4
min.insync.replicas=1
auto.create.topics.enable=$KAFKA_AUTO_CREATE_TOPICS
group.initial.rebalance.delay.ms=0
log.retention.hours=24
log.segment.bytes=67108864
num.network.threads=2
num.io.threads=4
PROPS

  # Format once; a restart on the same data dir must keep its topics and committed offsets.
  if [[ ! -f "$KAFKA_DATA_DIR/metadata/meta.properties" ]]; then
    CLUSTER_ID="$(java -cp "$LIBS/*" kafka.tools.StorageTool random-uuid 2>/dev/null | tail -1)"
    log "formatting $KAFKA_DATA_DIR (cluster $CLUSTER_ID)"
    java -cp "$LIBS/*" kafka.tools.StorageTool format -t "$CLUSTER_ID" -c "$PROPS" >"$KAFKA_DATA_DIR/logs/format.log" 2>&1 \
      || { cat "$KAFKA_DATA_DIR/logs/format.log" >&2; exit 1; }
  fi

  log "starting Kafka $KAFKA_VERSION from $KAFKA_DATA_DIR ($(partitions) partitions on disk)"
  # shellcheck disable=SC2086 # KAFKA_HEAP_OPTS holds several JVM options on purpose
  nohup java $KAFKA_HEAP_OPTS -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -Djava.awt.headless=true \
    -Dkafka.logs.dir="$KAFKA_DATA_DIR/logs" -Dlog4j.configuration="file:$HERE/log4j.properties" \
    -cp "$LIBS/*" kafka.Kafka "$PROPS" >"$KAFKA_DATA_DIR/logs/stdout.log" 2>&1 </dev/null &
  echo $! >"$PID_FILE"
fi

PID="$(cat "$PID_FILE")"
deadline=$((SECONDS + KAFKA_START_TIMEOUT))
until port_open "$KAFKA_PORT" && node "$HERE/broker-ready.js" "$BROKER" >/dev/null 2>&1; do
  if ! kill -0 "$PID" 2>/dev/null; then
    log "the broker exited during start-up; last lines of its log:"
    tail -n 30 "$KAFKA_DATA_DIR/logs/server.log" "$KAFKA_DATA_DIR/logs/stdout.log" >&2 2>/dev/null || true
    rm -f "$PID_FILE"
    exit 1
  fi
  if ((SECONDS >= deadline)); then
    log "no answer from $BROKER after ${KAFKA_START_TIMEOUT}s; last lines of $KAFKA_DATA_DIR/logs/server.log:"
    tail -n 30 "$KAFKA_DATA_DIR/logs/server.log" >&2 2>/dev/null || true
    log "a data dir that holds many partitions recovers them one by one on start: $(partitions) here"
    exit 1
  fi
  sleep 0.5
done
log "ready on $BROKER (pid $PID, data $KAFKA_DATA_DIR)"
echo "$BROKER"
