/**
 * Lifeline's row of the side-by-side scenario: the built embedded server as its own process, the
 * record-review definition published over HTTP, `created` records posted in batches, every task
 * completed over HTTP. Also the limit: the same event-store rows appended with plain better-sqlite3
 * in the same number of transactions.
 */
import { readFileSync, rmSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { bearer, LifelineProcess, ROOT } from '../lib/lifeline-server';
import { inParallel, percentile } from '../lib/measure';
import { rowFloor, snapshotKeys } from '../lib/row-floor';
import { recordOf, resultOf, REVIEWERS, type ScenarioOptions, type ScenarioRow } from './scenario';

export const LIFELINE_DEFINITION = join(ROOT, 'bench/peers/flow/record-review.lifeline.yaml');
const ADMIN = bearer('bench-admin', ['admin']);
const APP = bearer('bench-app', ['ingest']);
const REVIEWER = bearer('bench-reviewer', [REVIEWERS]);
const POST_BATCH = 500;

export class LifelineScenarioFailed extends Error {
  readonly code = 'BENCH.LIFELINE_SCENARIO_FAILED';
}

interface TaskPage {
  position: number;
  counts: { open: number; completed: number; postponed: number };
  items: { id: string }[];
}

/** How fast plain better-sqlite3 appends the rows Lifeline's store wrote, in as many transactions. */
export interface RawAppendRow {
  phase: 'start' | 'complete';
  rows: number;
  transactions: number;
  lifelineRowsPerSecond: number;
  rawRowsPerSecond: number;
  /**
   * The same event rows per second if storing every row the phase inserted (events, read models, the rest: see
   * bench/lib/row-floor.ts) were all an engine did: the most any engine that keeps Lifeline's rows can reach.
   */
  floorRowsPerSecond?: number;
}

export const envelopeOf = (run: string, i: number) => ({
  id: `${run}-${i}`,
  entityType: 'BenchRecord',
  entityId: `${run}-${i}`,
  kind: 'created' as const,
  occurredAt: new Date().toISOString(),
  data: recordOf(i),
});

export async function publishDefinition(server: LifelineProcess): Promise<void> {
  await server.request('POST', '/definitions', ADMIN, readFileSync(LIFELINE_DEFINITION, 'utf8'), 'application/yaml');
}

export async function postRecords(server: LifelineProcess, run: string, from: number, count: number): Promise<void> {
  const batches: number[] = [];
  for (let i = from; i < from + count; i += POST_BATCH) batches.push(i);
  // Two posts in flight, as bench/run.ts does: the server works while the next batch travels.
  await inParallel(batches, 2, (start) =>
    server.request(
      'POST',
      '/entity-events',
      APP,
      Array.from({ length: Math.min(POST_BATCH, from + count - start) }, (_, j) => envelopeOf(run, start + j)),
    ),
  );
}

const tasks = (server: LifelineProcess, query: string) => server.request<TaskPage>('GET', `/tasks?${query}`, REVIEWER);

async function waitForCounts(
  server: LifelineProcess,
  done: (counts: TaskPage['counts']) => boolean,
  minPosition = 0,
): Promise<void> {
  for (;;) {
    const page = await tasks(server, `status=all&limit=1&minPosition=${minPosition}`);
    if (done(page.counts)) return;
    await new Promise((r) => setTimeout(r, 5));
  }
}

async function completeOpenTasks(server: LifelineProcess, count: number, concurrency: number): Promise<number> {
  let last = 0;
  for (let done = 0; done < count;) {
    const page = await tasks(server, `status=open&limit=500&minPosition=${last}`);
    if (page.items.length === 0) throw new LifelineScenarioFailed(`no open task left after ${done} of ${count}`);
    await inParallel(page.items, concurrency, async (task, i) => {
      const answer = await server.request<{ position: number }>(
        'POST',
        `/tasks/${encodeURIComponent(task.id)}/complete`,
        REVIEWER,
        { result: resultOf(i) },
      );
      last = Math.max(last, answer.position);
    });
    done += page.items.length;
  }
  return last;
}

async function head(server: LifelineProcess): Promise<number> {
  return (await server.request<{ head: number }>('GET', '/health', REVIEWER)).head;
}

export async function runLifelineScenario(
  options: ScenarioOptions,
): Promise<{ row: ScenarioRow; rawAppends: RawAppendRow[] }> {
  const server = new LifelineProcess();
  try {
    await server.start({ LIFELINE_DEMO: 'false' });
    await publishDefinition(server);
    if (options.warmup > 0) {
      await postRecords(server, 'w', 0, options.warmup);
      await waitForCounts(server, (c) => c.open >= options.warmup);
      const last = await completeOpenTasks(server, options.warmup, options.concurrency);
      await waitForCounts(server, (c) => c.completed >= options.warmup, last);
    }
    const p0 = await head(server);
    const keys0 = snapshotKeys(server.dataDir);
    const cpu0 = server.cpuSeconds();
    const t0 = performance.now();
    await postRecords(server, 'r', 0, options.n);
    await waitForCounts(server, (c) => c.open >= options.n);
    const t1 = performance.now();
    const cpu1 = server.cpuSeconds();
    const p1 = await head(server);
    const keys1 = snapshotKeys(server.dataDir);
    const last = await completeOpenTasks(server, options.n, options.concurrency);
    await waitForCounts(server, (c) => c.completed >= options.n + options.warmup && c.open === 0, last);
    const t2 = performance.now();
    const cpu2 = server.cpuSeconds();
    const p2 = await head(server);
    const latencies: number[] = [];
    for (let i = 0; i < options.latencySamples; i++) {
      const envelope = envelopeOf('l', i);
      const at = performance.now();
      await server.request('POST', '/entity-events', APP, [envelope]);
      while (
        (await tasks(server, `status=open&limit=1&entityType=BenchRecord&entityId=${envelope.entityId}`)).items
          .length === 0
      ) {
        await new Promise((r) => setImmediate(r));
      }
      latencies.push(performance.now() - at);
    }
    const row: ScenarioRow = {
      engine: 'Lifeline',
      version: (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version,
      persistence: 'SQLite event store (WAL) + SQLite read models, over HTTP',
      n: options.n,
      concurrency: options.concurrency,
      startSeconds: (t1 - t0) / 1000,
      startsPerSecond: options.n / ((t1 - t0) / 1000),
      completeSeconds: (t2 - t1) / 1000,
      completionsPerSecond: options.n / ((t2 - t1) / 1000),
      startCpuSeconds: cpu1 - cpu0,
      completeCpuSeconds: cpu2 - cpu1,
      cpuSeconds: cpu2 - cpu0,
      latencySamples: latencies.length,
      p50ms: percentile(latencies, 50),
      p99ms: percentile(latencies, 99),
      peakRssMiB: server.peakRssMiB(),
      note: `server process only; records posted ${POST_BATCH} per request, 2 in flight`,
    };
    await server.stop({ keepData: true });
    const eventsFile = join(server.dataDir, 'events.db');
    const startTransactions = Math.ceil(options.n / POST_BATCH);
    const start = rawAppend(eventsFile, 'start', p0, p1, startTransactions, row.startSeconds);
    // Only the start phase: the complete phase mostly updates rows, which the floor does not count.
    start.floorRowsPerSecond = start.rows / rowFloor(server.dataDir, keys0, startTransactions, keys1).seconds;
    const rawAppends = [start, rawAppend(eventsFile, 'complete', p1, p2, options.n, row.completeSeconds)];
    return { row, rawAppends };
  } finally {
    await server.stop();
  }
}

interface EventRow {
  position: number;
  id: string;
  stream_id: string;
  revision: number;
  type: string;
  data: string;
  metadata: string;
  chain_prev: number | null;
  chain_hash: string | null;
}

/**
 * The rows Lifeline's store wrote between two positions, appended again with plain prepared
 * statements into a file with the same schema and pragmas, split into the same number of transactions.
 */
export function rawAppend(
  eventsFile: string,
  phase: RawAppendRow['phase'],
  from: number,
  to: number,
  transactions: number,
  lifelineSeconds: number,
): RawAppendRow {
  const source = new Database(eventsFile, { readonly: true });
  const rows = source
    .prepare('SELECT * FROM events WHERE position > ? AND position <= ? ORDER BY position')
    .all(from, to) as EventRow[];
  const schema = (
    source.prepare("SELECT sql FROM sqlite_master WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite_%'").all() as {
      sql: string;
    }[]
  ).map((r) => r.sql);
  source.close();
  const dir = mkdtempSync(join(tmpdir(), 'raw-sqlite-bench-'));
  const db = new Database(join(dir, 'events.db'));
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('wal_autocheckpoint = 10000');
    // As Lifeline's writer: the events' foreign key names the streams table, which it no longer writes.
    db.pragma('foreign_keys = OFF');
    for (const sql of schema) db.exec(sql);
    const insertEvent = db.prepare(
      `INSERT INTO events (position, id, stream_id, revision, type, data, metadata, chain_prev, chain_hash)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    const append = db.transaction((chunk: EventRow[]) => {
      for (const r of chunk) {
        // The rows as Lifeline wrote them, global-chain link included (its hashing is Lifeline's work, not SQLite's).
        insertEvent.run(
          r.position,
          r.id,
          r.stream_id,
          r.revision,
          r.type,
          r.data,
          r.metadata,
          r.chain_prev,
          r.chain_hash,
        );
      }
    });
    const size = Math.max(1, Math.ceil(rows.length / transactions));
    const started = performance.now();
    for (let i = 0; i < rows.length; i += size) append.immediate(rows.slice(i, i + size));
    const seconds = (performance.now() - started) / 1000;
    return {
      phase,
      rows: rows.length,
      transactions,
      lifelineRowsPerSecond: rows.length / lifelineSeconds,
      rawRowsPerSecond: rows.length / seconds,
    };
  } finally {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
