/**
 * As-of queries against a busy log: does the server stay responsive while `GET /tasks?asOf=<head>`
 * rebuilds every read model from the whole log? Not a test. Run (after `npm run build`):
 *   node dist/bench/as-of.bench.js        (or `npm run bench:as-of`, which builds first)
 *
 *   BENCH_AS_OF_EVENTS=100000   events in the log before the as-of queries
 *   BENCH_AS_OF_CONCURRENCY=4   as-of queries in flight (as admin), each client asks again once answered
 *   BENCH_AS_OF_SECONDS=30      how long the as-of load runs
 *   BENCH_AS_OF_PROBE_MS=20     /health is probed this often, open loop (a stalled probe does not delay the next)
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { LifelineProcess, ROOT, bearer } from './lib/lifeline-server';
import { markdownTable, percentile, sleep } from './lib/measure';

const APP = bearer('bench-app', ['ingest']);
const ADMIN = bearer('bench-admin', ['admin']);

interface Health {
  head: number;
  readModels: number;
  /** What reacts to the log (`processManager` in servers built before the reactions). */
  reactions?: { position: number };
  processManager?: { position: number };
}

interface Latencies {
  samples: number[];
  statuses: Record<string, number>;
}

const summary = (values: number[]) => ({
  n: values.length,
  p50: percentile(values, 50),
  p99: percentile(values, 99),
  max: values.length === 0 ? Number.NaN : Math.max(...values),
});

/** Posts invoices (each starts an instance with a task: several events) until the log holds `events`. */
async function fill(server: LifelineProcess, events: number): Promise<number> {
  const batchSize = 500;
  let serial = 0;
  let head = (await server.request<Health>('GET', '/health', APP)).head;
  while (head < events) {
    await Promise.all(
      [0, 1].map(() =>
        server.request(
          'POST',
          '/entity-events',
          APP,
          Array.from({ length: batchSize }, () => {
            const i = ++serial;
            return {
              id: `asof-${i}`,
              entityType: 'Invoice',
              entityId: `ASOF-INV-${i}`,
              kind: 'created',
              occurredAt: new Date().toISOString(),
              data: { number: `INV-${i}`, amount: 100 + (i % 1000), status: 'New', ownerId: 'alice' },
            };
          }),
        ),
      ),
    );
    head = await settled(server);
  }
  return head;
}

/** Waits until the process manager and the read models have handled the whole log; answers the head. */
async function settled(server: LifelineProcess): Promise<number> {
  for (;;) {
    const health = await server.request<Health>('GET', '/health', APP);
    const reacted = (health.reactions ?? health.processManager)?.position ?? 0;
    if (health.readModels >= health.head && reacted >= health.head) return health.head;
    await sleep(50);
  }
}

/** Probes /health every `everyMs` until `stop` resolves, without waiting for the previous probe. */
async function probeHealth(server: LifelineProcess, everyMs: number, stop: Promise<void>): Promise<Latencies> {
  const out: Latencies = { samples: [], statuses: {} };
  const pending: Promise<void>[] = [];
  let stopped = false;
  void stop.then(() => (stopped = true));
  const started = performance.now();
  for (let k = 0; !stopped; k++) {
    // Always yield; a tick this process itself was too busy to send is skipped, not sent in a burst.
    k = Math.max(k, Math.ceil((performance.now() - started) / everyMs));
    await sleep(started + k * everyMs - performance.now());
    if (stopped) break;
    const at = performance.now();
    pending.push(
      fetch(`${server.url}/health`).then(
        async (r) => {
          await r.arrayBuffer();
          out.samples.push(performance.now() - at);
          out.statuses[r.status] = (out.statuses[r.status] ?? 0) + 1;
        },
        () => void (out.statuses.error = (out.statuses.error ?? 0) + 1),
      ),
    );
  }
  await Promise.all(pending);
  return out;
}

async function asOfLoad(server: LifelineProcess, head: number, concurrency: number, until: number): Promise<Latencies> {
  const out: Latencies = { samples: [], statuses: {} };
  const client = async () => {
    while (performance.now() < until) {
      const at = performance.now();
      let status = 'error';
      let retryAfter = 1;
      try {
        const r = await fetch(`${server.url}/tasks?asOf=${head}`, { headers: { authorization: ADMIN } });
        const text = await r.text();
        status = r.status === 200 ? '200' : `${r.status} ${/"code":"([^"]+)"/.exec(text)?.[1] ?? ''}`.trim();
        retryAfter = Number(r.headers.get('retry-after') ?? 1);
      } catch (error) {
        // A server that stalls long enough drops connections (Node's headers timeout): counted, not fatal.
        status = `error ${(error as { cause?: { code?: string } }).cause?.code ?? ''}`.trim();
      }
      out.statuses[status] = (out.statuses[status] ?? 0) + 1;
      console.error(`as-of query: ${status} in ${((performance.now() - at) / 1000).toFixed(1)} s`);
      if (status === '200') out.samples.push(performance.now() - at);
      // A refusal (503 AUDIT.BUSY) says when to come back; honour it rather than spin.
      else await sleep(retryAfter * 1000);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, client));
  return out;
}

async function main(): Promise<void> {
  const events = Number(process.env.BENCH_AS_OF_EVENTS ?? 100_000);
  const concurrency = Number(process.env.BENCH_AS_OF_CONCURRENCY ?? 4);
  const seconds = Number(process.env.BENCH_AS_OF_SECONDS ?? 30);
  const probeMs = Number(process.env.BENCH_AS_OF_PROBE_MS ?? 20);
  const server = new LifelineProcess();
  await server.start();
  try {
    const fillStarted = performance.now();
    const head = await fill(server, events);
    console.error(`log filled: ${head} events in ${((performance.now() - fillStarted) / 1000).toFixed(1)} s`);

    let idleDone!: () => void;
    const idleStop = new Promise<void>((r) => (idleDone = r));
    const idleProbe = probeHealth(server, probeMs, idleStop);
    await sleep(3000);
    idleDone();
    const idle = await idleProbe;

    let loadDone!: () => void;
    const loadStop = new Promise<void>((r) => (loadDone = r));
    const busyProbe = probeHealth(server, probeMs, loadStop);
    const load = await asOfLoad(server, head, concurrency, performance.now() + seconds * 1000);
    loadDone();
    const busy = await busyProbe;

    const h0 = summary(idle.samples);
    const h1 = summary(busy.samples);
    const q = summary(load.samples);
    const ms = (v: number) => (Number.isNaN(v) ? '' : v.toFixed(1));
    const statuses = (s: Record<string, number>) =>
      Object.entries(s)
        .map(([k, v]) => `${k}×${v}`)
        .join(' ');
    console.log(
      `machine: ${cpus().length} cores; load average at the end ${loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')}; log of ${head} events; ${concurrency} as-of queries in flight for ${seconds} s\n`,
    );
    console.log(
      markdownTable(
        ['what', 'requests', 'answers', 'p50 ms', 'p99 ms', 'max ms'],
        ['l', 'r', 'l', 'r', 'r', 'r'],
        [
          ['/health, idle', String(h0.n), statuses(idle.statuses), ms(h0.p50), ms(h0.p99), ms(h0.max)],
          [
            `/health, every ${probeMs} ms during the as-of load`,
            String(h1.n),
            statuses(busy.statuses),
            ms(h1.p50),
            ms(h1.p99),
            ms(h1.max),
          ],
          [`GET /tasks?asOf=${head} (admin)`, String(q.n), statuses(load.statuses), ms(q.p50), ms(q.p99), ms(q.max)],
        ],
      ),
    );
    mkdirSync(join(ROOT, 'bench/results'), { recursive: true });
    const file = join(ROOT, 'bench/results', `as-of-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
    writeFileSync(
      file,
      JSON.stringify(
        {
          at: new Date().toISOString(),
          node: process.version,
          head,
          concurrency,
          seconds,
          idle: h0,
          busy: h1,
          asOf: q,
        },
        null,
        2,
      ),
    );
    console.log(`\n(written to ${file})`);
  } finally {
    await server.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
