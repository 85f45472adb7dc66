#!/usr/bin/env node
// `npm test`: every test kind (unit, contract, int, e2e) against the real things. Starts a Kafka
// broker (infra/kafka/start.sh) when none answers, and stops it afterwards if it started it.
// Extra arguments go to jest (`npm test -- --selectProjects unit`).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import net from 'node:net';

const brokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',')[0];
const [host, port] = brokers.split(':');

const answers = () =>
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
if (process.env.LIFELINE_SKIP_KAFKA === '1') {
  console.log('[test] LIFELINE_SKIP_KAFKA=1: Kafka suites will report themselves skipped');
} else if (await answers()) {
  console.log(`[test] Kafka broker already answers at ${brokers}`);
} else {
  console.log(`[test] no Kafka broker at ${brokers}: starting one with infra/kafka/start.sh`);
  const start = spawnSync('bash', ['infra/kafka/start.sh'], { stdio: 'inherit', env: { ...process.env, KAFKA_PORT: port } });
  if (start.status === 0) startedKafka = true;
  else if (process.env.CI) {
    console.error('[test] could not start Kafka, and CI needs it');
    process.exit(1);
  } else console.warn('[test] could not start Kafka: the Kafka suites will say they were skipped');
}
if (await answers()) process.env.KAFKA_AVAILABLE = '1';

mkdirSync('test-artifacts', { recursive: true });
const jest = spawnSync(
  process.execPath,
  ['node_modules/jest/bin/jest.js', '--ci', '--maxWorkers=2', '--json', '--outputFile=test-artifacts/jest-results.json', ...process.argv.slice(2)],
  { stdio: 'inherit', env: process.env },
);

if (startedKafka && process.env.LIFELINE_KEEP_KAFKA !== '1') {
  spawnSync('bash', ['infra/kafka/stop.sh'], { stdio: 'inherit', env: { ...process.env, KAFKA_PORT: port } });
}

if (existsSync('test-artifacts/jest-results.json')) {
  const r = JSON.parse(readFileSync('test-artifacts/jest-results.json', 'utf8'));
  const skipped = r.numPendingTests + r.numTodoTests;
  console.log(`\nLifeline: ${r.numPassedTests} passed, ${r.numFailedTests} failed, ${skipped} skipped`);
  if (r.numFailedTestSuites > 0 && r.numFailedTests === 0) console.log(`(${r.numFailedTestSuites} test suite(s) failed to run)`);
}
process.exit(jest.status ?? 1);
