/**
 * `npm run bench`: Lifeline's own figures on this machine, printed as a table and written to
 * bench/results/. Never a test. The server runs as its own process (the built embedded start),
 * exactly as `npm start` runs it; the load comes from this process over loopback.
 *
 *   BENCH_N=10000,100000  events per throughput run     BENCH_RATE=1000  events/s for the latency run
 *   BENCH_LATENCY_SECONDS=10                              BENCH_KAFKA=auto|off
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import net from 'node:net';
import jwt from 'jsonwebtoken';
import { Kafka, logLevel, Partitioners } from 'kafkajs';

const ROOT = resolve(__dirname, '..', '..');
const MAIN = join(ROOT, 'dist/services/embedded/src/main.js');
const SECRET = 'bench-secret-0123456789abcdef';
const token = (sub: string, roles: string[]) => `Bearer ${jwt.sign({ sub, roles }, SECRET, { algorithm: 'HS256' })}`;
const APP = token('bench-app', ['ingest']);
const VIEWER = token('bench-viewer', ['accounting']);

interface Row {
  path: 'HTTP' | 'Kafka';
  scenario: string;
  n: number;
  seconds: number;
  eventsPerSecond: number;
  p50ms?: number;
  p99ms?: number;
  peakRssMiB: number;
  /** Server CPU milliseconds per event: what the engine costs, whatever else the machine is doing. */
  cpuMsPerEvent?: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const freePort = () =>
  new Promise<number>((res) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const port = (server.address() as net.AddressInfo).port;
      server.close(() => res(port));
    });
  });

class Server {
  child!: ChildProcess;
  url!: string;
  dir = mkdtempSync(join(tmpdir(), 'lifeline-bench-'));
  async start(env: Record<string, string> = {}): Promise<void> {
    const port = await freePort();
    this.url = `http://127.0.0.1:${port}`;
    this.child = spawn(process.execPath, [MAIN], {
      env: {
        ...process.env,
        PORT: String(port),
        LIFELINE_DATA_DIR: this.dir,
        LIFELINE_JWT_SECRET: SECRET,
        LOG_LEVEL: 'error',
        ...env,
      },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    for (let i = 0; i < 300; i++) {
      try {
        const r = await fetch(`${this.url}/health`);
        if (r.ok) return;
      } catch {
        // not listening yet
      }
      await sleep(100);
    }
    throw new Error('server did not start');
  }
  /** CPU seconds the server process used so far (user + system), from /proc: robust to other load. */
  cpuSeconds(): number {
    const fields = readFileSync(`/proc/${this.child.pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  }
  peakRssMiB(): number {
    const status = readFileSync(`/proc/${this.child.pid}/status`, 'utf8');
    const kb = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0);
    return Math.round(kb / 1024);
  }
  async stop(): Promise<void> {
    this.child.kill('SIGTERM');
    await new Promise((r) => this.child.once('exit', r));
    rmSync(this.dir, { recursive: true, force: true });
  }
  async visibleTasks(): Promise<number> {
    const r = await fetch(`${this.url}/tasks?limit=1&status=all`, { headers: { authorization: VIEWER } });
    const body = (await r.json()) as { counts: { open: number; completed: number; postponed: number } };
    return body.counts.open + body.counts.completed + body.counts.postponed;
  }
}

let serial = 0;
const envelope = (run: string, i: number) => ({
  id: `${run}-${i}`,
  entityType: 'Invoice',
  entityId: `${run}-INV-${i}`,
  kind: 'created',
  occurredAt: new Date().toISOString(),
  data: { number: `INV-${i}`, amount: 100 + (i % 1000), status: 'New', ownerId: 'alice' },
});

async function post(server: Server, batch: unknown[]): Promise<void> {
  const r = await fetch(`${server.url}/entity-events`, {
    method: 'POST',
    headers: { authorization: APP, 'content-type': 'application/json' },
    body: JSON.stringify(batch),
  });
  if (r.status !== 202) throw new Error(`POST /entity-events: ${r.status} ${await r.text()}`);
}

async function waitVisible(server: Server, n: number, onCount?: (count: number, at: number) => void): Promise<number> {
  for (;;) {
    const count = await server.visibleTasks();
    const now = performance.now();
    onCount?.(count, now);
    if (count >= n) return now;
    await sleep(5);
  }
}

const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
};

async function httpThroughput(n: number): Promise<Row> {
  const server = new Server();
  await server.start();
  const run = `h${++serial}`;
  const batchSize = 500;
  const cpuBefore = server.cpuSeconds();
  const started = performance.now();
  for (let i = 0; i < n; i += batchSize * 2) {
    await Promise.all(
      [0, 1].map((k) => {
        const from = i + k * batchSize;
        if (from >= n) return Promise.resolve();
        return post(
          server,
          Array.from({ length: Math.min(batchSize, n - from) }, (_, j) => envelope(run, from + j)),
        );
      }),
    );
  }
  const done = await waitVisible(server, n);
  const seconds = (done - started) / 1000;
  const row: Row = {
    path: 'HTTP',
    scenario: `post in batches of ${batchSize} → task visible`,
    n,
    seconds,
    eventsPerSecond: n / seconds,
    peakRssMiB: server.peakRssMiB(),
    cpuMsPerEvent: ((server.cpuSeconds() - cpuBefore) * 1000) / n,
  };
  await server.stop();
  return row;
}

/** Fixed rate; the k-th task to appear belongs to the k-th event (one engine handles the log in order). */
async function latencyAtRate(
  path: 'HTTP' | 'Kafka',
  rate: number,
  seconds: number,
  produce: (batch: ReturnType<typeof envelope>[]) => Promise<void>,
  server: Server,
  run: string,
): Promise<Row> {
  const n = rate * seconds;
  const tick = 10;
  const perTick = Math.max(1, Math.round((rate * tick) / 1000));
  const postedAt: number[] = [];
  const visibleAt: number[] = [];
  let seen = 0;
  const watcher = waitVisible(server, n, (count, at) => {
    while (seen < count) visibleAt[seen++] = at;
  });
  const started = performance.now();
  for (let i = 0; i < n; i += perTick) {
    const target = started + (i / perTick) * tick;
    const wait = target - performance.now();
    if (wait > 0) await sleep(wait);
    const batch = Array.from({ length: Math.min(perTick, n - i) }, (_, j) => envelope(run, i + j));
    const at = performance.now();
    await produce(batch);
    for (let j = 0; j < batch.length; j++) postedAt[i + j] = at;
  }
  await watcher;
  const latencies = postedAt.map((at, k) => visibleAt[k] - at);
  return {
    path,
    scenario: `${rate}/s for ${seconds} s: latency to task visible`,
    n,
    seconds,
    eventsPerSecond: rate,
    p50ms: percentile(latencies, 50),
    p99ms: percentile(latencies, 99),
    peakRssMiB: server.peakRssMiB(),
  };
}

async function kafkaRows(ns: number[], rate: number, latencySeconds: number): Promise<Row[]> {
  const brokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
  const kafka = new Kafka({ brokers, logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  try {
    await admin.connect();
  } catch {
    console.error(`(Kafka rows skipped: no broker at ${brokers.join(',')}; run infra/kafka/start.sh)`);
    return [];
  }
  const rows: Row[] = [];
  for (const [scenario, n] of [
    ...ns.map((n) => ['throughput', n] as const),
    ['latency', rate * latencySeconds] as const,
  ]) {
    const topic = `bench-entity-events-${Date.now()}-${++serial}`;
    await admin.createTopics({ topics: [{ topic, numPartitions: 4 }], waitForLeaders: true });
    const server = new Server();
    await server.start({
      LIFELINE_ENTITY_SOURCE: 'kafka',
      KAFKA_TOPICS: topic,
      KAFKA_BROKERS: brokers.join(','),
      KAFKA_GROUP_ID: `bench-${topic}`,
    });
    const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    const run = `k${serial}`;
    const produce = (batch: ReturnType<typeof envelope>[]) =>
      producer
        .send({ topic, messages: batch.map((e) => ({ key: `Invoice:${e.entityId}`, value: JSON.stringify(e) })) })
        .then(() => undefined);
    if (scenario === 'throughput') {
      const cpuBefore = server.cpuSeconds();
      const started = performance.now();
      for (let i = 0; i < n; i += 1000)
        await produce(Array.from({ length: Math.min(1000, n - i) }, (_, j) => envelope(run, i + j)));
      const done = await waitVisible(server, n);
      const seconds = (done - started) / 1000;
      rows.push({
        path: 'Kafka',
        scenario: 'produce → task visible',
        n,
        seconds,
        eventsPerSecond: n / seconds,
        peakRssMiB: server.peakRssMiB(),
        cpuMsPerEvent: ((server.cpuSeconds() - cpuBefore) * 1000) / n,
      });
    } else {
      rows.push(await latencyAtRate('Kafka', rate, latencySeconds, produce, server, run));
    }
    await producer.disconnect();
    await server.stop();
  }
  await admin.disconnect();
  return rows;
}

async function main(): Promise<void> {
  const ns = (process.env.BENCH_N ?? '10000,100000').split(',').map(Number);
  const rate = Number(process.env.BENCH_RATE ?? 1000);
  const latencySeconds = Number(process.env.BENCH_LATENCY_SECONDS ?? 10);
  const rows: Row[] = [];
  for (const n of ns) {
    rows.push(await httpThroughput(n));
    console.error(`HTTP ${n}: done`);
  }
  {
    const server = new Server();
    await server.start();
    rows.push(
      await latencyAtRate('HTTP', rate, latencySeconds, (batch) => post(server, batch), server, `l${++serial}`),
    );
    await server.stop();
  }
  if (process.env.BENCH_KAFKA !== 'off') rows.push(...(await kafkaRows(ns, rate, latencySeconds)));

  const table = [
    '| path | scenario | N | seconds | events/s | p50 ms | p99 ms | peak RSS MiB | server CPU ms/event |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...rows.map(
      (r) =>
        `| ${r.path} | ${r.scenario} | ${r.n} | ${r.seconds.toFixed(1)} | ${Math.round(r.eventsPerSecond)} | ${r.p50ms?.toFixed(1) ?? ''} | ${r.p99ms?.toFixed(1) ?? ''} | ${r.peakRssMiB} | ${r.cpuMsPerEvent?.toFixed(3) ?? ''} |`,
    ),
  ].join('\n');
  console.log(
    `machine: ${cpus().length} cores; load average at the end ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')} (other work on the machine slows wall-clock rows; CPU ms/event is not affected)\n`,
  );
  console.log(table);
  mkdirSync(join(ROOT, 'bench/results'), { recursive: true });
  const file = join(ROOT, 'bench/results', `lifeline-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, JSON.stringify({ at: new Date().toISOString(), node: process.version, rows }, null, 2));
  console.log(`\n(written to ${file})`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
