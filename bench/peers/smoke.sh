#!/usr/bin/env bash
# CI check, not a measurement: every peer harness and Lifeline's builds and runs the scenario on a tiny N.
# Maven resolves into ~/.m2 (cache that directory in CI); MAVEN_OFFLINE=1 builds from the cache alone.
# Temporal's harness compiles the whole Temporal server: about 15 CPU-minutes from a cold Go module and
# build cache (cache `go env GOMODCACHE` and `go env GOCACHE` in CI: then it is a relink, under a minute).
# BENCH_PEERS_SMOKE_TEMPORAL=0 leaves Temporal out; without Go it is left out too.
set -euo pipefail
cd "$(dirname "$0")/../.."
n="${BENCH_PEERS_SMOKE_N:-20}"
maven_flags=(-q -B)
if [ "${MAVEN_OFFLINE:-0}" = "1" ]; then maven_flags+=(-o); fi
engines=lifeline,bpmn-engine,camunda,operaton,flowable

# Under npm test the build is done before any suite starts; rebuilding here would rewrite dist/ while
# other suites run the built server from it.
if [ "${LIFELINE_SKIP_BUILD:-0}" != "1" ]; then npm run build --silent; fi
mvn "${maven_flags[@]}" -f bench/peers/java/pom.xml package
if [ "${BENCH_PEERS_SMOKE_TEMPORAL:-1}" = "1" ] && command -v go >/dev/null; then
  # Low priority: under npm test the other suites keep the CPU they need while the server compiles.
  nice -n 10 bash bench/peers/temporal/build.sh
  engines+=,temporal
fi
BENCH_PEERS_ENGINES="$engines" BENCH_PEERS_N="$n" BENCH_PEERS_WARMUP=5 BENCH_PEERS_LATENCY=5 BENCH_PEERS_CONCURRENCY=2 \
  BENCH_KAFKA="${BENCH_KAFKA:-off}" node dist/bench/peers/run-peers.js
