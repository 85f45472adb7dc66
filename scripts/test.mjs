#!/usr/bin/env node
// `npm test`: every test kind (unit, contract, int, e2e) against the real things. Starts a Kafka
// broker (infra/kafka/start.sh) and a PostgreSQL cluster (infra/postgres/start.sh) when none answers, and stops
// them afterwards if it started them (the PostgreSQL cluster is throw-away too: its data dir is removed). That broker is
// throw-away: it starts from an empty data directory and the directory is removed after the run (a reused one
// holds every topic earlier runs created, thousands of partitions that a restart recovers one by one: 85 s on
// this machine after a few dozen runs, past start.sh's 90 s on a slower one).
// Extra arguments go to jest (`npm test -- --selectProjects unit`).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';

const brokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',')[0];
const [host, port] = brokers.split(':');

const answers = () => listening(host, port);
const listening = (host, port) =>
  new Promise((resolve) => {
    const socket = net.connect({ host, port: Number(port) });
    socket.setTimeout(2000, () => (socket.destroy(), resolve(false)));
    socket.on('connect', () => (socket.end(), resolve(true)));
    socket.on('error', () => resolve(false));
  });

// Some e2e suites run the built processes (engine, API) as a user would: build first.
if (process.env.LIFELINE_SKIP_BUILD !== '1') {
  const build = spawnSync('npm', ['run', '--silent', 'build'], { stdio: 'inherit' });
  if (build.status !== 0) process.exit(build.status ?? 1);
}

let startedKafka = false;
const kafkaDataDir = process.env.KAFKA_DATA_DIR ?? join(tmpdir(), `lifeline-kafka-test-${port}`);
const kafkaEnv = { ...process.env, KAFKA_PORT: port, KAFKA_DATA_DIR: kafkaDataDir };
// Only a directory this runner owns (the default one) is removed; one named by KAFKA_DATA_DIR is the caller's.
// Nor one a broker still runs from (started by another run and not answering yet).
const removeKafkaData = () => {
  if (process.env.KAFKA_DATA_DIR !== undefined) return;
  const pidFile = join(kafkaDataDir, 'kafka.pid');
  if (existsSync(pidFile) && alive(Number(readFileSync(pidFile, 'utf8')))) return;
  rmSync(kafkaDataDir, { recursive: true, force: true });
};
function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
if (process.env.LIFELINE_SKIP_KAFKA === '1') {
  console.log('[test] LIFELINE_SKIP_KAFKA=1: Kafka suites will report themselves skipped');
} else if (await answers()) {
  console.log(`[test] Kafka broker already answers at ${brokers}`);
} else {
  console.log(`[test] no Kafka broker at ${brokers}: starting one with infra/kafka/start.sh in ${kafkaDataDir}`);
  removeKafkaData();
  const start = spawnSync('bash', ['infra/kafka/start.sh'], { stdio: 'inherit', env: kafkaEnv });
  if (start.status === 0) startedKafka = true;
  else if (process.env.CI) {
    console.error('[test] could not start Kafka, and CI needs it');
    process.exit(1);
  } else console.warn('[test] could not start Kafka: the Kafka suites will say they were skipped');
}
if (await answers()) process.env.KAFKA_AVAILABLE = '1';

// PostgreSQL (the second distributed event store): LIFELINE_POSTGRES_URL, else a cluster on PG_PORT, started here
// when none answers. The specs that need it read LIFELINE_POSTGRES_URL; each run uses a schema of its own.
let startedPostgres = false;
const pgPort = process.env.PG_PORT ?? '54329';
const pgEnv = {
  ...process.env,
  PG_PORT: pgPort,
  PG_DATA_DIR: process.env.PG_DATA_DIR ?? join(tmpdir(), `lifeline-postgres-test-${pgPort}`),
  // Only the data dir this runner made is removed; one named by PG_DATA_DIR is the caller's.
  PG_REMOVE_DATA: process.env.PG_DATA_DIR === undefined ? '1' : '0',
};
if (process.env.LIFELINE_POSTGRES_URL) {
  console.log('[test] PostgreSQL from LIFELINE_POSTGRES_URL');
} else if (process.env.LIFELINE_SKIP_POSTGRES === '1') {
  console.log('[test] LIFELINE_SKIP_POSTGRES=1: PostgreSQL suites will report themselves skipped');
} else {
  if (await listening('127.0.0.1', pgPort)) {
    console.log(`[test] PostgreSQL already answers at 127.0.0.1:${pgPort}`);
  } else {
    console.log(`[test] no PostgreSQL at 127.0.0.1:${pgPort}: starting one with infra/postgres/start.sh`);
    const start = spawnSync('bash', ['infra/postgres/start.sh'], {
      stdio: ['ignore', 'ignore', 'inherit'],
      env: pgEnv,
    });
    if (start.status === 0) startedPostgres = true;
    else if (process.env.CI) {
      console.error('[test] could not start PostgreSQL, and CI needs it');
      process.exit(1);
    } else console.warn('[test] could not start PostgreSQL: the PostgreSQL suites will say they were skipped');
  }
  if (await listening('127.0.0.1', pgPort))
    process.env.LIFELINE_POSTGRES_URL = `postgres://postgres@127.0.0.1:${pgPort}/lifeline`;
}

mkdirSync('test-artifacts', { recursive: true });
const jest = spawnSync(
  process.execPath,
  [
    'node_modules/jest/bin/jest.js',
    '--ci',
    '--maxWorkers=2',
    '--json',
    '--outputFile=test-artifacts/jest-results.json',
    ...process.argv.slice(2),
  ],
  { stdio: 'inherit', env: process.env },
);

if (startedPostgres && process.env.LIFELINE_KEEP_POSTGRES !== '1') {
  spawnSync('bash', ['infra/postgres/stop.sh'], { stdio: 'inherit', env: pgEnv });
}
if (startedKafka && process.env.LIFELINE_KEEP_KAFKA !== '1') {
  spawnSync('bash', ['infra/kafka/stop.sh'], { stdio: 'inherit', env: kafkaEnv });
  removeKafkaData();
}

// The summary CI reads: every skipped test named with its reason (the reason is in its title), then
// exactly one last line `N passed, N failed, N skipped`.
let summary = '0 passed, 1 failed, 0 skipped';
if (existsSync('test-artifacts/jest-results.json')) {
  const r = JSON.parse(readFileSync('test-artifacts/jest-results.json', 'utf8'));
  const skippedTests = [];
  for (const file of r.testResults ?? []) {
    for (const test of file.assertionResults ?? []) {
      if (test.status === 'pending' || test.status === 'todo' || test.status === 'skipped') {
        skippedTests.push(`  ${relative(process.cwd(), file.name)}: ${test.fullName}`);
      }
    }
  }
  const skipped = r.numPendingTests + r.numTodoTests;
  if (skippedTests.length > 0)
    console.log(`\nSkipped (${skippedTests.length}), each with its reason:\n${skippedTests.join('\n')}`);
  if (r.numFailedTestSuites > 0) console.log(`\n${r.numFailedTestSuites} test suite(s) failed`);
  // A suite that failed to run has no failed test of its own: count it as one failure.
  const failed = r.numFailedTests + (r.numFailedTests === 0 ? r.numRuntimeErrorTestSuites : 0);
  summary = `${r.numPassedTests} passed, ${failed} failed, ${skipped} skipped`;
}
console.log(`\n${summary}`);
process.exit(jest.status ?? 1);
