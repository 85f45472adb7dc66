/**
 * Server CPU µs per HTTP request on the built embedded server, for the requests clients and `npm run bench`
 * make most: `GET /health/live`, the bench's probe `GET /tasks?status=all&limit=1&entityId=…`, `POST /entity-events`
 * with 10 envelopes, and the task actions claim and complete; `raw` is a bare node:http server answering
 * `{"ok":true}` (the floor). CPU is the server process's own (/proc/<pid>/stat), so the load's CPU and the
 * neighbours' do not count. Not a test. Run:
 *   npm run -s build && node dist/bench/http-request.bench.js
 * Settings: BENCH_HTTP_N (requests per kind and round, 250), BENCH_HTTP_ROUNDS (30; the median is printed, and
 * with a baseline the ratio of the two builds' totals: short alternating rounds see the same neighbours),
 * BENCH_HTTP_CONCURRENCY (4 in flight), BENCH_HTTP_KINDS (raw,live,probe,post10,claim,complete),
 * BENCH_HTTP_BASELINE=<another build's dist/services/embedded/src/main.js> (measured in the same run, alternating).
 */
import { spawn } from 'node:child_process';
import { bearer, LifelineProcess } from './lib/lifeline-server';
import { invoiceEnvelope } from './lib/invoice-envelope';
import { cpuSecondsOf, inParallel, markdownTable, sleep } from './lib/measure';

const N = Number(process.env.BENCH_HTTP_N ?? 250);
const ROUNDS = Number(process.env.BENCH_HTTP_ROUNDS ?? 30);
const CONCURRENCY = Number(process.env.BENCH_HTTP_CONCURRENCY ?? 4);
const KINDS = (process.env.BENCH_HTTP_KINDS ?? 'raw,live,probe,post10,claim,complete').split(',');
const BASELINE = process.env.BENCH_HTTP_BASELINE;

const APP = bearer('bench-app', ['ingest']);
const ALICE = bearer('alice', ['accounting']);

interface Target {
  name: string;
  url: string;
  cpuSeconds(): number;
  /** Task ids created by this target's posts, not yet claimed / claimed, not yet completed. */
  unclaimed: string[];
  claimed: string[];
  posted: number;
  stop(): Promise<void>;
}

async function send(url: string, method: string, auth: string | undefined, body?: unknown): Promise<string> {
  const r = await fetch(url, {
    method,
    headers: {
      ...(auth ? { authorization: auth } : {}),
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await r.text();
  if (r.status >= 300) throw new Error(`${method} ${url}: ${r.status} ${text.slice(0, 300)}`);
  return text;
}

const envelope = (run: string, i: number) => invoiceEnvelope(run, i);

async function lifeline(name: string, main?: string): Promise<Target> {
  const server = new LifelineProcess(main);
  await server.start();
  return {
    name,
    url: server.url,
    cpuSeconds: () => server.cpuSeconds(),
    unclaimed: [],
    claimed: [],
    posted: 0,
    stop: () => server.stop(),
  };
}

/** The floor: node:http alone, answering a small JSON body. */
async function raw(): Promise<Target> {
  const script = `require('node:http').createServer((q, s) => { q.resume(); q.on('end', () => {
    s.setHeader('content-type', 'application/json; charset=utf-8'); s.end('{"ok":true}'); }); })
    .listen(0, '127.0.0.1', function () { process.stdout.write(String(this.address().port) + '\\n'); });`;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<string>((res) => child.stdout.once('data', (d: Buffer) => res(d.toString().trim())));
  return {
    name: 'node:http',
    url: `http://127.0.0.1:${port}`,
    cpuSeconds: () => cpuSecondsOf(child.pid!),
    unclaimed: [],
    claimed: [],
    posted: 0,
    stop: async () => {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    },
  };
}

/** Open tasks alice may claim, collected before the claims (paging while claiming would shift the pages). */
async function collectTasks(target: Target, count: number): Promise<void> {
  const seen = new Set([...target.unclaimed, ...target.claimed]);
  for (let offset = 0; target.unclaimed.length < count; offset += 500) {
    const page = JSON.parse(await send(`${target.url}/tasks?status=new&limit=500&offset=${offset}`, 'GET', ALICE)) as {
      items: { id: string }[];
    };
    if (page.items.length === 0) break;
    for (const { id } of page.items) if (!seen.has(id)) target.unclaimed.push(id);
  }
  if (target.unclaimed.length < count) throw new Error(`only ${target.unclaimed.length} tasks to claim`);
}

type Request = (target: Target, i: number) => Promise<unknown>;

const REQUESTS: Record<string, { prepare?: (target: Target) => Promise<void>; request: Request }> = {
  raw: { request: (t) => send(`${t.url}/health/live`, 'GET', undefined) },
  live: { request: (t) => send(`${t.url}/health/live`, 'GET', undefined) },
  probe: {
    prepare: async (t) => {
      if (t.posted === 0) await send(`${t.url}/entity-events`, 'POST', APP, [envelope('probe', 0)]);
      t.posted = Math.max(t.posted, 1);
    },
    request: (t) => send(`${t.url}/tasks?status=all&limit=1&entityId=probe-INV-0`, 'GET', ALICE),
  },
  post10: {
    request: (t) => {
      const run = `p${t.posted++}`;
      return send(
        `${t.url}/entity-events`,
        'POST',
        APP,
        Array.from({ length: 10 }, (_, j) => envelope(run, j)),
      );
    },
  },
  claim: {
    prepare: async (t) => {
      if (t.unclaimed.length < N) {
        const run = `c${t.posted++}`;
        for (let i = 0; i < N; i += 500)
          await send(
            `${t.url}/entity-events`,
            'POST',
            APP,
            Array.from({ length: Math.min(500, N - i) }, (_, j) => envelope(run, i + j)),
          );
        await collectTasks(t, N);
      }
    },
    request: async (t) => {
      const id = t.unclaimed.pop()!;
      await send(`${t.url}/tasks/${id}/claim`, 'POST', ALICE);
      t.claimed.push(id);
    },
  },
  complete: {
    request: (t) => {
      const id = t.claimed.pop();
      if (id === undefined) throw new Error('run claim before complete');
      return send(`${t.url}/tasks/${id}/complete`, 'POST', ALICE, { result: 'Reject' });
    },
  },
};

async function measure(target: Target, kind: string): Promise<number> {
  const { prepare, request } = REQUESTS[kind]!;
  if (prepare) {
    await prepare(target);
    await sleep(200); // the server's work for the preparation settles first
  }
  const before = target.cpuSeconds();
  await inParallel(
    Array.from({ length: N }, (_, i) => i),
    CONCURRENCY,
    async (i) => void (await request(target, i)),
  );
  return ((target.cpuSeconds() - before) * 1e6) / N;
}

const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

async function main(): Promise<void> {
  const targets = [await lifeline('this build'), ...(BASELINE ? [await lifeline('baseline', BASELINE)] : [])];
  const floor = KINDS.includes('raw') ? await raw() : undefined;
  const results = new Map<string, number[]>();
  try {
    // Warm-up: the JIT and the caches, then rounds alternating which build goes first.
    for (const t of targets)
      for (const kind of KINDS.filter((k) => k !== 'raw' && k !== 'complete')) {
        if (kind === 'claim') continue;
        await inParallel([0, 1, 2, 3, 4, 5, 6, 7], 4, async (i) => void (await REQUESTS[kind]!.request(t, i)));
      }
    // Kind by kind, rounds alternating which build goes first: the machine's load changes less within a kind.
    for (const kind of KINDS) {
      for (let round = 0; round < ROUNDS; round++) {
        const order = round % 2 === 0 ? targets : [...targets].reverse();
        for (const t of kind === 'raw' ? [floor!] : order) {
          const us = await measure(t, kind);
          const key = `${kind}\t${t.name}`;
          results.set(key, [...(results.get(key) ?? []), us]);
          process.stdout.write(
            `round ${round + 1} ${kind.padEnd(8)} ${t.name.padEnd(10)} ${us.toFixed(0)} µs/request\n`,
          );
        }
      }
    }
  } finally {
    for (const t of targets) await t.stop();
    await floor?.stop();
  }
  // The builds' rounds alternate, so both saw the same neighbours: the ratio of their totals.
  const ratio = (kind: string) => {
    const sum = (name: string) => (results.get(`${kind}\t${name}`) ?? []).reduce((a, b) => a + b, 0);
    return (sum('this build') / sum('baseline')).toFixed(3);
  };
  const cell = (kind: string, name: string) => {
    const values = results.get(`${kind}\t${name}`);
    return values ? median(values).toFixed(0) : '';
  };
  process.stdout.write(
    `\nServer CPU µs per request, median of ${ROUNDS} rounds of ${N} requests, ${CONCURRENCY} in flight\n\n` +
      markdownTable(
        ['request', ...targets.map((t) => t.name), ...(targets.length > 1 ? ['this / baseline, all rounds'] : [])],
        ['l', ...targets.map(() => 'r' as const), ...(targets.length > 1 ? ['r' as const] : [])],
        KINDS.map((kind) => [
          kind,
          ...targets.map((t, i) => (kind !== 'raw' ? cell(kind, t.name) : i === 0 ? cell(kind, 'node:http') : '')),
          ...(targets.length > 1 ? [kind === 'raw' ? '' : ratio(kind)] : []),
        ]),
      ) +
      '\n',
  );
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
