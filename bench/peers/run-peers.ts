/**
 * `npm run bench:peers`: Lifeline and its peers (Camunda 7, Operaton, Flowable, bpmn-engine, Temporal) on the
 * same scenario in one run on this machine, one after another, each engine in its own process; then
 * the machine's limits (plain SQLite appends of the same rows, plain kafkajs consumption). Prints
 * one table with each peer's ratio to Lifeline and writes JSON to bench/results/. Never a test.
 *
 *   BENCH_PEERS_N=10000  instances per engine       BENCH_PEERS_WARMUP=1000  untimed instances first
 *   BENCH_PEERS_CONCURRENCY=4  requests or threads  BENCH_PEERS_LATENCY=200  one-at-a-time samples
 *   BENCH_PEERS_ENGINES=lifeline,bpmn-engine,camunda,operaton,flowable,temporal  BENCH_KAFKA=auto|off
 *   (temporal is in the default list when `go` is installed)
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../lib/lifeline-server';
import { markdownTable } from '../lib/measure';
import { kafkaLimit, type KafkaLimitRow } from './kafka-limit';
import { runLifelineScenario, type RawAppendRow } from './lifeline-peer';
import type { ScenarioOptions, ScenarioRow } from './scenario';

const JAVA = join(ROOT, 'bench/peers/java');
const FLOW = join(ROOT, 'bench/peers/flow');
const JAVA_PEERS = {
  camunda: 'lifeline.bench.peers.camunda.CamundaPeer',
  operaton: 'lifeline.bench.peers.operaton.OperatonPeer',
  flowable: 'lifeline.bench.peers.flowable.FlowablePeer',
} as const;
const TEMPORAL = join(ROOT, 'bench/peers/temporal/bin/temporal-peer');
type EngineName = 'lifeline' | 'bpmn-engine' | 'temporal' | keyof typeof JAVA_PEERS;

export class PeerFailed extends Error {
  readonly code = 'BENCH.PEER_FAILED';
}

/** Runs one harness process and takes the JSON row it prints last. */
function runHarness(command: string, args: string[]): Promise<ScenarioRow> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => void (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => void (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('exit', (code) => {
      const line = stdout.trim().split('\n').pop() ?? '';
      if (code !== 0 || !line.startsWith('{')) {
        reject(new PeerFailed(`${command} ${args.join(' ')} exited with ${code}: ${stderr.slice(-2000)}`));
        return;
      }
      resolve(JSON.parse(line) as ScenarioRow);
    });
  });
}

function javaPeer(name: keyof typeof JAVA_PEERS, options: ScenarioOptions): Promise<ScenarioRow> {
  const module = join(JAVA, name);
  const classpathFile = join(module, 'target/classpath.txt');
  if (!existsSync(classpathFile))
    throw new PeerFailed(`${classpathFile} is missing: build with mvn -f bench/peers/java/pom.xml package`);
  const classpath = [
    join(module, 'target/classes'),
    join(JAVA, 'common/target/classes'),
    readFileSync(classpathFile, 'utf8').trim(),
  ].join(':');
  const args = [
    String(options.n),
    String(options.warmup),
    String(options.concurrency),
    String(options.latencySamples),
    join(FLOW, 'record-review.bpmn'),
  ];
  // One heap size for every JVM peer, so their peak RSS compares.
  return runHarness('java', ['-Xmx1g', '-cp', classpath, JAVA_PEERS[name], ...args]);
}

function bpmnEnginePeer(options: ScenarioOptions): Promise<ScenarioRow> {
  const args = [
    String(options.n),
    String(options.warmup),
    String(options.concurrency),
    String(options.latencySamples),
    join(FLOW, 'record-review.bpmn-engine.bpmn'),
  ];
  return runHarness(process.execPath, [join(__dirname, 'bpmn-engine-peer.js'), ...args]);
}

/** Temporal's Go harness: its own server on a SQLite file and a Go worker, in one process. */
function temporalPeer(options: ScenarioOptions): Promise<ScenarioRow> {
  if (!existsSync(TEMPORAL))
    throw new PeerFailed(`${TEMPORAL} is missing: build with bash bench/peers/temporal/build.sh`);
  const args = [options.n, options.warmup, options.concurrency, options.latencySamples].map(String);
  return runHarness(TEMPORAL, args);
}

/** Every engine; Temporal only where Go is installed to build its harness. */
function defaultEngines(): EngineName[] {
  const withGo = spawnSync('sh', ['-c', 'command -v go']).status === 0;
  return ['lifeline', 'bpmn-engine', 'camunda', 'operaton', 'flowable', ...(withGo ? (['temporal'] as const) : [])];
}

export interface PeersResult {
  at: string;
  node: string;
  options: ScenarioOptions;
  rows: ScenarioRow[];
  rawAppends: RawAppendRow[];
  kafka?: KafkaLimitRow;
}

const ratio = (value: number, lifeline: number | undefined) => (lifeline ? `${(value / lifeline).toFixed(2)}×` : '');
const fixed = (value: number, digits = 0) => (Number.isFinite(value) ? value.toFixed(digits) : '');

export function peersTable(result: PeersResult): string {
  const lifeline = result.rows.find((r) => r.engine === 'Lifeline');
  const perCpu = (r: ScenarioRow) => (2 * r.n) / r.cpuSeconds;
  const scenario = markdownTable(
    [
      'engine',
      'version',
      'starts/s',
      'completed/s',
      'completed/s vs Lifeline',
      'CPU s',
      'steps per CPU s',
      'vs Lifeline',
      'p50 ms',
      'p99 ms',
      'peak RSS MiB',
      'state kept in',
    ],
    ['l', 'l', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'l'],
    result.rows.map((r) => [
      r.engine,
      r.version,
      fixed(r.startsPerSecond),
      fixed(r.completionsPerSecond),
      ratio(r.completionsPerSecond, lifeline?.completionsPerSecond),
      fixed(r.cpuSeconds, 1),
      fixed(perCpu(r)),
      ratio(perCpu(r), lifeline ? perCpu(lifeline) : undefined),
      fixed(r.p50ms, 1),
      fixed(r.p99ms, 1),
      String(r.peakRssMiB),
      r.persistence,
    ]),
  );
  const limits = markdownTable(
    ['limit', 'N', 'Lifeline /s', 'machine /s', 'Lifeline share', 'share if storing its rows were all it did'],
    ['l', 'r', 'r', 'r', 'r', 'r'],
    [
      ...result.rawAppends.map((a) => [
        `SQLite: the ${a.phase} phase's ${a.rows} event rows in ${a.transactions} transactions (plain better-sqlite3)`,
        String(a.rows),
        fixed(a.lifelineRowsPerSecond),
        fixed(a.rawRowsPerSecond),
        `${((100 * a.lifelineRowsPerSecond) / a.rawRowsPerSecond).toFixed(1)} %`,
        a.floorRowsPerSecond === undefined ? '' : `${((100 * a.floorRowsPerSecond) / a.rawRowsPerSecond).toFixed(1)} %`,
      ]),
      ...(result.kafka
        ? [
            [
              'Kafka: produce → consumed (plain kafkajs) vs produce → task visible (Lifeline)',
              String(result.kafka.n),
              fixed(result.kafka.lifelinePerSecond),
              fixed(result.kafka.rawConsumePerSecond),
              `${((100 * result.kafka.lifelinePerSecond) / result.kafka.rawConsumePerSecond).toFixed(1)} %`,
              '',
            ],
          ]
        : [['Kafka: skipped (no broker; run infra/kafka/start.sh)', '', '', '', '', '']]),
    ],
  );
  const notes = result.rows.filter((r) => r.note).map((r) => `- ${r.engine}: ${r.note}`);
  return [
    scenario,
    "Steps per CPU second = (starts + completions) / CPU seconds of the engine's process.",
    ...(notes.length > 0 ? [notes.join('\n')] : []),
    limits,
  ].join('\n\n');
}

async function main(): Promise<void> {
  const options: ScenarioOptions = {
    n: Number(process.env.BENCH_PEERS_N ?? 10_000),
    warmup: Number(process.env.BENCH_PEERS_WARMUP ?? 1000),
    concurrency: Number(process.env.BENCH_PEERS_CONCURRENCY ?? 4),
    latencySamples: Number(process.env.BENCH_PEERS_LATENCY ?? 200),
  };
  const engines = process.env.BENCH_PEERS_ENGINES
    ? (process.env.BENCH_PEERS_ENGINES.split(',') as EngineName[])
    : defaultEngines();
  const result: PeersResult = {
    at: new Date().toISOString(),
    node: process.version,
    options,
    rows: [],
    rawAppends: [],
  };
  for (const engine of engines) {
    console.error(`${engine}: N=${options.n} …`);
    if (engine === 'lifeline') {
      const lifeline = await runLifelineScenario(options);
      result.rows.push(lifeline.row);
      result.rawAppends.push(...lifeline.rawAppends);
    } else if (engine === 'bpmn-engine') {
      result.rows.push(await bpmnEnginePeer(options));
    } else if (engine === 'temporal') {
      result.rows.push(await temporalPeer(options));
    } else if (engine in JAVA_PEERS) {
      result.rows.push(await javaPeer(engine, options));
    } else {
      throw new PeerFailed(`unknown engine ${engine as string}`);
    }
  }
  if (process.env.BENCH_KAFKA !== 'off' && engines.includes('lifeline')) {
    console.error(`kafka limit: N=${options.n} …`);
    result.kafka = await kafkaLimit(options.n);
  }
  console.log(peersTable(result));
  mkdirSync(join(ROOT, 'bench/results'), { recursive: true });
  const file = join(ROOT, 'bench/results', `peers-${result.at.replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, JSON.stringify(result, null, 2));
  console.log(`\n(written to ${file})`);
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
