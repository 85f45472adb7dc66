/**
 * `npm run bench`: Lifeline's own figures on this machine, printed as a table and written to
 * bench/results/. Never a test. The server runs as its own process (the built embedded start),
 * exactly as `npm start` runs it; the load comes from this process over loopback.
 *
 *   BENCH_N=10000,100000   events per throughput run        BENCH_RATE=1000  events/s for the latency runs
 *   BENCH_LATENCY_SECONDS=10                                 BENCH_KAFKA=auto|off
 *   BENCH_DEFINITIONS=1,50,200  active definitions on one entity type (one matching), BENCH_DEFINITIONS_N=20000
 *   BENCH_STEADY_SECONDS=600  the steady-load run (0 leaves it out)
 *   BENCH_ROWS=http,latency,definitions,steady,kafka,scale,fold  which rows to run
 *   scale: engines on PostgreSQL and Kafka sharing one backlog (bench/scale-out.bench.ts, its settings at its top)
 *   BENCH_FOLD_RECORDS=5000  records of the fold row's log (bench/lib/reactor-fold.ts)
 */
import { cpus, loadavg } from 'node:os';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Kafka, logLevel, Partitioners } from 'kafkajs';
import { bearer, LifelineProcess, ROOT } from './lib/lifeline-server';
import { invoiceEnvelope } from './lib/invoice-envelope';
import { markdownTable, percentile, sleep } from './lib/measure';
import { rowFloor, snapshotKeys, type RowFloor } from './lib/row-floor';
import { scaleOutRows, scaleOutTable, type ScaleOutRow } from './scale-out.bench';
import { engineLog, foldDir, foldSqlite } from './lib/reactor-fold';

const APP = bearer('bench-app', ['ingest']);
const VIEWER = bearer('bench-viewer', ['accounting']);
const ADMIN = bearer('bench-admin', ['admin']);

interface Row {
  /**
   * SQLite: the storage floor of the HTTP row before it (its rows stored by plain better-sqlite3). Reactor: the fold
   * of a log into empty reactor state, in this process (what an engine pays per partition it takes over).
   */
  path: 'HTTP' | 'Kafka' | 'SQLite' | 'Reactor';
  scenario: string;
  n: number;
  seconds: number;
  eventsPerSecond: number;
  p50ms?: number;
  p99ms?: number;
  peakRssMiB?: number;
  /** Server CPU milliseconds per event: what the engine costs, whatever else the machine is doing. */
  cpuMsPerEvent?: number;
  note?: string;
}

let serial = 0;
type Envelope = ReturnType<typeof envelope>;
const envelope = invoiceEnvelope;

async function post(server: LifelineProcess, batch: unknown[]): Promise<void> {
  await server.request('POST', '/entity-events', APP, batch);
}

/** The tasks of one record (an indexed lookup: probing must not load the server it measures). */
async function taskOf(server: LifelineProcess, entityId: string, auth = VIEWER): Promise<boolean> {
  const body = await server.request<{ items: unknown[] }>(
    'GET',
    `/tasks?status=all&limit=1&entityId=${encodeURIComponent(entityId)}`,
    auth,
  );
  return body.items.length > 0;
}

async function waitTask(server: LifelineProcess, entityId: string, auth = VIEWER): Promise<number> {
  for (;;) {
    if (await taskOf(server, entityId, auth)) return performance.now();
    await sleep(2);
  }
}

async function openTasks(server: LifelineProcess, auth = VIEWER): Promise<number> {
  const body = await server.request<{ counts: { open: number; completed: number; postponed: number } }>(
    'GET',
    '/tasks?limit=1&status=all',
    auth,
  );
  return body.counts.open + body.counts.completed + body.counts.postponed;
}

/**
 * N envelopes posted 500 per request, 2 requests in flight, until the last record's task is visible; then the
 * storage floor of what it wrote (bench/lib/row-floor.ts): every row it inserted, stored again by plain
 * better-sqlite3 in as many transactions.
 */
async function httpThroughput(n: number): Promise<Row[]> {
  const server = new LifelineProcess();
  await server.start();
  const run = `h${++serial}`;
  const batchSize = 500;
  const before = snapshotKeys(server.dataDir);
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
  const done = await waitTask(server, `${run}-INV-${n - 1}`);
  const seconds = (done - started) / 1000;
  const cpuMsPerEvent = ((server.cpuSeconds() - cpuBefore) * 1000) / n;
  const visible = await openTasks(server);
  const row: Row = {
    path: 'HTTP',
    scenario: `post in batches of ${batchSize} → task visible`,
    n,
    seconds,
    eventsPerSecond: n / seconds,
    peakRssMiB: server.peakRssMiB(),
    cpuMsPerEvent,
    ...(visible !== n ? { note: `only ${visible} tasks visible` } : {}),
  };
  await server.stop({ keepData: true });
  try {
    return [row, floorRow(rowFloor(server.dataDir, before, Math.ceil(n / batchSize)), n)];
  } finally {
    server.removeData();
  }
}

/** The floor as a row: CPU and one-thread rate of storing the rows alone; the note says which rows. */
function floorRow(floor: RowFloor, n: number): Row {
  // Tables with a row or more per entity event (a checkpoint row or two is not the floor's story).
  const rows = floor.files.flatMap((f) =>
    Object.entries(f.rows)
      .filter(([, count]) => count >= n / 10)
      .map(([table, count]) => `${table} ${+(count / n).toFixed(2)}`),
  );
  const bTrees = floor.files.reduce((sum, f) => sum + f.bTreeWrites, 0);
  return {
    path: 'SQLite',
    scenario: 'the rows of the row above, stored by plain better-sqlite3 (the floor)',
    n,
    seconds: floor.seconds,
    eventsPerSecond: n / floor.seconds,
    cpuMsPerEvent: (floor.cpuSeconds * 1000) / n,
    note:
      `per entity event: ${rows.join(', ')}; ${(bTrees / n).toFixed(1)} B-tree writes; CPU ms per file: ` +
      `${floor.files.map((f) => `${f.file} ${((f.cpuSeconds * 1000) / n).toFixed(3)}`).join(', ')}; ` +
      `${((floor.cpuSecondsWithDigests * 1000) / n).toFixed(3)} ms with a SHA-256 per stored event`,
  };
}

/**
 * Events at a fixed rate; each one's latency is from its post to its own task showing in the task
 * list (probed per record, so the probe costs the same at the end as at the start).
 */
async function latencyAtRate(
  path: 'HTTP' | 'Kafka',
  rate: number,
  seconds: number,
  produce: (batch: Envelope[]) => Promise<void>,
  server: LifelineProcess,
  run: string,
  notes: string[],
): Promise<Row> {
  const cpuBefore = server.cpuSeconds();
  const samples = await fixedRate(rate, seconds, produce, server, run);
  const cpuMsPerEvent = ((server.cpuSeconds() - cpuBefore) * 1000) / (rate * seconds);
  const latencies = samples.map((s) => s.latencyMs);
  notes.push(...whenSlow(`${path} ${rate}/s for ${seconds} s`, samples));
  return {
    path,
    scenario: `${rate}/s for ${seconds} s: post → task visible`,
    n: rate * seconds,
    seconds,
    eventsPerSecond: rate,
    p50ms: percentile(latencies, 50),
    p99ms: percentile(latencies, 99),
    peakRssMiB: server.peakRssMiB(),
    cpuMsPerEvent,
  };
}

interface Sample {
  /** Seconds since the run started. */
  at: number;
  latencyMs: number;
}

/**
 * When the slowest samples were posted, and the first second against the rest: a cold process meeting the load
 * and a stall that recurs with it are different faults.
 */
function whenSlow(name: string, samples: Sample[]): string[] {
  const summary = (values: number[]) =>
    values.length === 0
      ? 'no samples'
      : `${values.length} samples, p50 ${percentile(values, 50).toFixed(1)} ms, p99 ${percentile(values, 99).toFixed(1)} ms, max ${Math.max(...values).toFixed(1)} ms`;
  return [
    `${name}: slowest samples ${[...samples]
      .sort((a, b) => b.latencyMs - a.latencyMs)
      .slice(0, 5)
      .map((s) => `${s.latencyMs.toFixed(0)} ms at ${s.at.toFixed(1)} s`)
      .join(', ')}`,
    `  posted in the first second: ${summary(samples.filter((s) => s.at < 1).map((s) => s.latencyMs))}; from 2 s on: ${summary(samples.filter((s) => s.at >= 2).map((s) => s.latencyMs))}`,
  ];
}

/**
 * Posts `rate` events/s in 10 ms ticks; up to 20 of them a second are followed until their own task
 * shows, polling that record every 5 ms. At most 4 are followed at once, so when latency grows the
 * probes do not pile up and load the server they measure (the sample just thins out).
 */
/** Posts a fixed rate may have unanswered at once. */
const MAX_IN_FLIGHT = 16;

async function fixedRate(
  rate: number,
  seconds: number,
  produce: (batch: Envelope[]) => Promise<void>,
  server: LifelineProcess,
  run: string,
): Promise<Sample[]> {
  const n = rate * seconds;
  const tick = 10;
  const perTick = Math.max(1, Math.round((rate * tick) / 1000));
  const probeEvery = Math.max(1, Math.round(rate / 20 / perTick));
  const probes: Promise<Sample>[] = [];
  let following = 0;
  const follow = async (entityId: string, at: number, started: number): Promise<Sample> => {
    following++;
    try {
      for (;;) {
        if (await taskOf(server, entityId)) return { at: (at - started) / 1000, latencyMs: performance.now() - at };
        await sleep(5);
      }
    } finally {
      following--;
    }
  };
  // Open loop, as producers are: a tick posts without waiting for the last tick's answer, up to
  // MAX_IN_FLIGHT posts at once (a server that falls further behind than that slows the offer, and
  // the row's "seconds" then shows it). Waiting for each answer would measure one request at a time.
  const inFlight = new Set<Promise<void>>();
  let failure: unknown;
  const started = performance.now();
  for (let i = 0, t = 0; i < n; i += perTick, t++) {
    const target = started + t * tick;
    const wait = target - performance.now();
    if (wait > 0) await sleep(wait);
    while (inFlight.size >= MAX_IN_FLIGHT) await Promise.race(inFlight);
    const batch = Array.from({ length: Math.min(perTick, n - i) }, (_, j) => envelope(run, i + j));
    const at = performance.now();
    const posted = produce(batch);
    const settled = posted.then(
      () => undefined,
      (error: unknown) => {
        failure ??= error;
      },
    );
    inFlight.add(settled);
    void settled.then(() => inFlight.delete(settled));
    if (t % probeEvery === 0 && following < 4) {
      const last = batch[batch.length - 1]!;
      probes.push(posted.then(() => follow(last.entityId, at, started)));
    }
  }
  await Promise.all(inFlight);
  if (failure !== undefined) throw failure;
  return Promise.all(probes);
}

/**
 * Ingest with K active definitions on the same entity type, only one of which matches: the rate
 * must not fall with K (triggers are narrowed by an index, not each evaluated per event).
 */
async function definitionsScaling(counts: number[], n: number): Promise<Row[]> {
  const rows: Row[] = [];
  for (const k of counts) {
    const server = new LifelineProcess();
    await server.start({ LIFELINE_DEMO: 'false' });
    for (let d = 0; d < k; d++) {
      const yaml = [
        `key: route-${d}`,
        `name: Route ${d}`,
        'relatedEntity: Order',
        `executionOrder: ${d}`,
        'triggers:',
        `  - on: created`,
        `    when: entity.region = "R${d}" and entity.amount > 0`,
        '  - on: updated',
        '    fields: [status]',
        `    when: entity.region = "R${d}" and entity.status = "Reopened"`,
        'start: review',
        'activities:',
        '  review: { type: human, title: Review the order, assignee: { role: accounting }, next: done }',
        '  done: { type: end }',
      ].join('\n');
      await server.request('POST', '/definitions', ADMIN, yaml, 'application/yaml');
    }
    const run = `d${++serial}`;
    const order = (i: number) => ({
      ...envelope(run, i, { region: 'R0' }),
      entityType: 'Order',
      entityId: `${run}-ORD-${i}`,
    });
    const cpuBefore = server.cpuSeconds();
    const started = performance.now();
    for (let i = 0; i < n; i += 1000) {
      await Promise.all(
        [0, 500].map((k2) =>
          i + k2 < n
            ? post(
                server,
                Array.from({ length: Math.min(500, n - i - k2) }, (_, j) => order(i + k2 + j)),
              )
            : null,
        ),
      );
    }
    const done = await waitTask(server, `${run}-ORD-${n - 1}`);
    const seconds = (done - started) / 1000;
    rows.push({
      path: 'HTTP',
      scenario: `${k} active definition(s) on one entity type, one matching`,
      n,
      seconds,
      eventsPerSecond: n / seconds,
      peakRssMiB: server.peakRssMiB(),
      cpuMsPerEvent: ((server.cpuSeconds() - cpuBefore) * 1000) / n,
    });
    await server.stop();
    console.error(`definitions ${k}: done`);
  }
  const base = rows[0]?.eventsPerSecond ?? 0;
  for (const row of rows) row.note = `${((row.eventsPerSecond / base) * 100).toFixed(0)}% of the first row`;
  return rows;
}

/**
 * A steady load: `rate` events/s for `seconds`, while /health is probed every 50 ms. Reports whether
 * it kept up (every event recorded, no backlog at the end), the post → task visible latency of the
 * first and the last minute, and /health's latency throughout.
 */
async function steadyLoad(rate: number, seconds: number): Promise<{ row: Row; lines: string[] }> {
  const server = new LifelineProcess();
  await server.start();
  const run = `s${++serial}`;
  const health: { at: number; ms: number }[] = [];
  let probing = true;
  const started = performance.now();
  const healthProbe = (async () => {
    while (probing) {
      const at = performance.now();
      await fetch(`${server.url}/health`);
      health.push({ at: (at - started) / 1000, ms: performance.now() - at });
      await sleep(50);
    }
  })();
  const rssStart = server.rssMiB();
  const samples = await fixedRate(rate, seconds, (batch) => post(server, batch), server, run);
  const postedSeconds = (performance.now() - started) / 1000;
  const visible = await openTasks(server);
  probing = false;
  await healthProbe;
  const window = Math.min(60, seconds / 2);
  const first = samples.filter((s) => s.at < window).map((s) => s.latencyMs);
  const last = samples.filter((s) => s.at >= seconds - window).map((s) => s.latencyMs);
  const healthMs = health.map((h) => h.ms);
  const lines = [
    `steady load: ${rate}/s for ${seconds} s (posting took ${postedSeconds.toFixed(1)} s), ${visible} of ${rate * seconds} tasks visible at the end`,
    `  post → task visible, first ${window} s: p50 ${percentile(first, 50).toFixed(1)} ms, p99 ${percentile(first, 99).toFixed(1)} ms; last ${window} s: p50 ${percentile(last, 50).toFixed(1)} ms, p99 ${percentile(last, 99).toFixed(1)} ms (ratio of p50s ${(percentile(last, 50) / percentile(first, 50)).toFixed(2)})`,
    `  /health: ${health.length} probes, p50 ${percentile(healthMs, 50).toFixed(1)} ms, p99 ${percentile(healthMs, 99).toFixed(1)} ms, max ${Math.max(...healthMs).toFixed(1)} ms`,
    // When the slowest probes were sent: a stall at start-up and one that recurs with the load are different faults.
    `  slowest /health probes: ${[...health]
      .sort((a, b) => b.ms - a.ms)
      .slice(0, 3)
      .map((h) => `${h.ms.toFixed(0)} ms at ${h.at.toFixed(1)} s`)
      .join(', ')}`,
    `  server RSS ${rssStart} → ${server.rssMiB()} MiB`,
  ];
  const all = samples.map((s) => s.latencyMs);
  const row: Row = {
    path: 'HTTP',
    scenario: `steady ${rate}/s for ${seconds} s: post → task visible`,
    n: rate * seconds,
    seconds: postedSeconds,
    eventsPerSecond: (rate * seconds) / postedSeconds,
    p50ms: percentile(all, 50),
    p99ms: percentile(all, 99),
    peakRssMiB: server.peakRssMiB(),
    note: `/health p99 ${percentile(healthMs, 99).toFixed(1)} ms, max ${Math.max(...healthMs).toFixed(1)} ms`,
  };
  await server.stop();
  return { row, lines };
}

async function kafkaRows(ns: number[], rate: number, latencySeconds: number, notes: string[]): Promise<Row[]> {
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
    const server = new LifelineProcess();
    await server.start({
      LIFELINE_ENTITY_SOURCE: 'kafka',
      KAFKA_TOPICS: topic,
      KAFKA_BROKERS: brokers.join(','),
      KAFKA_GROUP_ID: `bench-${topic}`,
    });
    const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    const run = `k${serial}`;
    const produce = (batch: Envelope[]) =>
      producer
        .send({ topic, messages: batch.map((e) => ({ key: `Invoice:${e.entityId}`, value: JSON.stringify(e) })) })
        .then(() => undefined);
    if (scenario === 'throughput') {
      const cpuBefore = server.cpuSeconds();
      const started = performance.now();
      for (let i = 0; i < n; i += 1000)
        await produce(Array.from({ length: Math.min(1000, n - i) }, (_, j) => envelope(run, i + j)));
      // Partitions are consumed in parallel: wait for the count, not for one record.
      let done = performance.now();
      while ((await openTasks(server)) < n) {
        await sleep(20);
        done = performance.now();
      }
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
      rows.push(await latencyAtRate('Kafka', rate, latencySeconds, produce, server, run, notes));
    }
    await producer.disconnect();
    await server.stop();
  }
  await admin.disconnect();
  return rows;
}

/**
 * The reactor's fold without reacting, on the embedded store (docs/scaling.md): a log the engine writes in this
 * process, folded into empty state three times, the median; checked against the live reactor's state.
 */
async function foldRow(records: number): Promise<Row> {
  const { dir, remove } = foldDir();
  try {
    const log = await engineLog(dir, records);
    const figures = await foldSqlite(log, 3);
    const median = [...figures].sort((a, b) => a.eventsPerSecond - b.eventsPerSecond)[1]!;
    return {
      path: 'Reactor',
      scenario: 'fold without reacting (a partition taken over): events of the log → reactor state',
      n: median.events,
      seconds: median.seconds,
      eventsPerSecond: median.eventsPerSecond,
      cpuMsPerEvent: median.cpuMicrosPerEvent / 1000,
      note: `in this process (no server); ${(log.events / log.records).toFixed(1)} events per record, ${log.concerning} of them folded`,
    };
  } finally {
    remove();
  }
}

async function main(): Promise<void> {
  const ns = (process.env.BENCH_N ?? '10000,100000').split(',').map(Number);
  const rate = Number(process.env.BENCH_RATE ?? 1000);
  const latencySeconds = Number(process.env.BENCH_LATENCY_SECONDS ?? 10);
  const definitionCounts = (process.env.BENCH_DEFINITIONS ?? '1,50,200').split(',').map(Number);
  const definitionsN = Number(process.env.BENCH_DEFINITIONS_N ?? 20_000);
  const steadySeconds = Number(process.env.BENCH_STEADY_SECONDS ?? 600);
  const wanted = new Set((process.env.BENCH_ROWS ?? 'http,latency,definitions,steady,kafka,scale,fold').split(','));
  const rows: Row[] = [];
  const notes: string[] = [];
  if (wanted.has('http')) {
    for (const n of ns) {
      rows.push(...(await httpThroughput(n)));
      console.error(`HTTP ${n}: done`);
    }
  }
  if (wanted.has('latency')) {
    const server = new LifelineProcess();
    await server.start();
    rows.push(
      await latencyAtRate('HTTP', rate, latencySeconds, (batch) => post(server, batch), server, `l${++serial}`, notes),
    );
    await server.stop();
  }
  if (wanted.has('definitions')) rows.push(...(await definitionsScaling(definitionCounts, definitionsN)));
  if (wanted.has('steady') && steadySeconds > 0) {
    const steady = await steadyLoad(rate, steadySeconds);
    rows.push(steady.row);
    notes.push(...steady.lines);
  }
  if (wanted.has('kafka') && process.env.BENCH_KAFKA !== 'off')
    rows.push(...(await kafkaRows(ns, rate, latencySeconds, notes)));
  // Its own table: engines, ownership and CPU per event of each process, not one server's rows.
  let scaleOut: ScaleOutRow[] = [];
  let scaleOutText: string | undefined;
  if (wanted.has('scale') && process.env.BENCH_KAFKA !== 'off') {
    const result = await scaleOutRows();
    if ('skipped' in result) {
      scaleOutText = `(scale-out rows skipped: ${result.skipped})`;
      console.error(scaleOutText);
    } else {
      scaleOut = result.rows;
      scaleOutText = `${scaleOutTable(result.rows)}\n\n${result.notes.join('\n')}`;
    }
  }
  if (wanted.has('fold')) rows.push(await foldRow(Number(process.env.BENCH_FOLD_RECORDS ?? 5_000)));

  console.log(
    `machine: ${cpus().length} cores; load average at the end ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')} (other work on the machine slows wall-clock rows; CPU ms/event is not affected)\n`,
  );
  if (rows.length > 0)
    console.log(
      markdownTable(
        [
          'path',
          'scenario',
          'N',
          'seconds',
          'events/s',
          'p50 ms',
          'p99 ms',
          'peak RSS MiB',
          'server CPU ms/event',
          'note',
        ],
        ['l', 'l', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'l'],
        rows.map((r) => [
          r.path,
          r.scenario,
          String(r.n),
          r.seconds.toFixed(1),
          String(Math.round(r.eventsPerSecond)),
          r.p50ms?.toFixed(1) ?? '',
          r.p99ms?.toFixed(1) ?? '',
          r.peakRssMiB === undefined ? '' : String(r.peakRssMiB),
          r.cpuMsPerEvent?.toFixed(3) ?? '',
          r.note ?? '',
        ]),
      ),
    );
  if (notes.length > 0) console.log(`\n${notes.join('\n')}`);
  if (scaleOutText !== undefined)
    console.log(`\nScale-out on PostgreSQL and Kafka (bench/scale-out.bench.ts):\n\n${scaleOutText}`);
  mkdirSync(join(ROOT, 'bench/results'), { recursive: true });
  const file = join(ROOT, 'bench/results', `lifeline-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(
    file,
    JSON.stringify({ at: new Date().toISOString(), node: process.version, rows, notes, scaleOut }, null, 2),
  );
  console.log(`\n(written to ${file})`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
