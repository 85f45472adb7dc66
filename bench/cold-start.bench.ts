/**
 * The cold start of the built embedded server: how long from spawn to the first `/health` that answers ok, and
 * then the wall-clock time of a fresh server's first requests, one at a time as a first client sends them:
 * `GET /health`, 25 × (`POST /entity-events` of 10 envelopes, the bench's probe `GET /tasks?…&entityId=…`), then
 * claim and complete of two tasks. Each round starts a new server per build; rounds alternate which build goes
 * first. Prints the median over rounds of each request's time (the first one and the median of the later ones), and
 * the server's CPU over the first ten posts with their probes against the next ten.
 * Not a test. Run:
 *   npm run -s build && node dist/bench/cold-start.bench.js
 * Settings: BENCH_COLD_ROUNDS (5), BENCH_COLD_BASELINE=<another build's dist/services/embedded/src/main.js>
 * (measured in the same run, alternating), BENCH_COLD_POSTS (25).
 */
import { bearer, LifelineProcess } from './lib/lifeline-server';
import { invoiceEnvelope } from './lib/invoice-envelope';
import { markdownTable } from './lib/measure';

const ROUNDS = Number(process.env.BENCH_COLD_ROUNDS ?? 5);
const POSTS = Number(process.env.BENCH_COLD_POSTS ?? 25);
const BASELINE = process.env.BENCH_COLD_BASELINE;

const APP = bearer('bench-app', ['ingest']);
const ALICE = bearer('alice', ['accounting']);

const envelope = (run: string, i: number) => invoiceEnvelope(run, i);

/** One request's wall-clock milliseconds, after checking it succeeded. */
async function timed<T>(server: LifelineProcess, method: 'GET' | 'POST', path: string, auth: string, body?: unknown) {
  const started = performance.now();
  const answer = await server.request<T>(method, path, auth, body);
  return { ms: performance.now() - started, answer };
}

type Figures = Map<string, number>;

async function round(main: string | undefined): Promise<Figures> {
  const figures: Figures = new Map();
  const server = new LifelineProcess(main);
  const spawned = performance.now();
  await server.start({}, { pollMs: 5 });
  figures.set('start-up to first /health ok', performance.now() - spawned);
  figures.set('start-up CPU ms', server.cpuSeconds() * 1000);
  try {
    figures.set('GET /health, first', (await timed(server, 'GET', '/health', '')).ms);
    const posts: number[] = [];
    const probes: number[] = [];
    let cpu = server.cpuSeconds();
    for (let p = 0; p < POSTS; p++) {
      // Server CPU (robust to the neighbours' load): the first ten posts with their probes, and the next ten.
      if (p === 10 || p === 20) {
        const now = server.cpuSeconds();
        figures.set(`server CPU ms, posts ${p - 9}–${p} with their probes`, (now - cpu) * 1000);
        cpu = now;
      }
      const run = `r${p}`;
      const batch = Array.from({ length: 10 }, (_, j) => envelope(run, j));
      posts.push((await timed(server, 'POST', '/entity-events', APP, batch)).ms);
      probes.push((await timed(server, 'GET', `/tasks?status=all&limit=1&entityId=${run}-INV-9`, ALICE)).ms);
    }
    const later = (values: number[]) => median(values.slice(1));
    figures.set('POST /entity-events of 10, first', posts[0]!);
    figures.set(`POST /entity-events of 10, median of 2–${POSTS}`, later(posts));
    figures.set('probe GET /tasks, first', probes[0]!);
    figures.set(`probe GET /tasks, median of 2–${POSTS}`, later(probes));
    figures.set('GET /health, second', (await timed(server, 'GET', '/health', '')).ms);
    const { answer } = await timed<{ items: { id: string }[] }>(server, 'GET', '/tasks?status=new&limit=2', ALICE);
    const [first, second] = answer.items;
    if (!first || !second) throw new Error('fewer than 2 open tasks');
    figures.set('claim, first', (await timed(server, 'POST', `/tasks/${first.id}/claim`, ALICE)).ms);
    figures.set(
      'complete, first',
      (await timed(server, 'POST', `/tasks/${first.id}/complete`, ALICE, { result: 'Reject' })).ms,
    );
    figures.set('claim, second', (await timed(server, 'POST', `/tasks/${second.id}/claim`, ALICE)).ms);
    figures.set(
      'complete, second',
      (await timed(server, 'POST', `/tasks/${second.id}/complete`, ALICE, { result: 'Approve' })).ms,
    );
  } finally {
    await server.stop();
  }
  return figures;
}

const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

async function main(): Promise<void> {
  const builds: { name: string; main?: string }[] = [
    { name: 'this build' },
    ...(BASELINE ? [{ name: 'baseline', main: BASELINE }] : []),
  ];
  const results = new Map<string, Figures[]>(builds.map((b) => [b.name, []]));
  for (let r = 0; r < ROUNDS; r++) {
    for (const build of r % 2 === 0 ? builds : [...builds].reverse()) {
      const figures = await round(build.main);
      results.get(build.name)!.push(figures);
      process.stdout.write(
        `round ${r + 1} ${build.name.padEnd(10)} ${[...figures].map(([k, v]) => `${k}: ${v.toFixed(1)}`).join('; ')}\n`,
      );
    }
  }
  const names = [...results.values()][0]![0]!.keys();
  process.stdout.write(
    `\nA fresh server's first requests, wall-clock ms, median of ${ROUNDS} rounds\n\n` +
      markdownTable(
        ['figure', ...builds.map((b) => b.name)],
        ['l', ...builds.map(() => 'r' as const)],
        [...names].map((name) => [
          name,
          ...builds.map((b) => median(results.get(b.name)!.map((f) => f.get(name)!)).toFixed(1)),
        ]),
      ) +
      '\n',
  );
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
