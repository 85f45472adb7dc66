/**
 * CPU per entity event spent projecting: real stored events (the built server's, from records posted and
 * their tasks completed) applied through the Projector in batches of 2,000 and of 40 (each a commit) into a fresh
 * read-model file, per projection and all together, for the start phase (EntityEventRecorded, InstanceStarted,
 * ActivityEntered, TaskCreated) and the complete phase (TaskCompleted … InstanceCompleted). Not a test. Run:
 *   npm run -s build && node dist/bench/read-models.bench.js
 * Settings: BENCH_RM_N (records, 10000), BENCH_RM_ROUNDS (3; the median is printed),
 * BENCH_RM_STORE=<an events file> (skip the server run; a kept `LIFELINE_DATA_DIR`'s store),
 * BENCH_RM_SAVE=<path> (keep the server run's events file there, for BENCH_RM_STORE next time),
 * BENCH_RM_BASELINE=<another checkout's dist dir> (its projections measured in the same run, rounds alternating),
 * BENCH_RM_ONLY=<projection names, comma separated> (the rows to run; `all` is every projection at once),
 * BENCH_RM_BATCH (batch sizes, comma separated: 2000,40 — 500 entity events posted at once, and 10 per post, each
 * its own read-model commit as the server makes them; 6 is one task completion a batch).
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { type StoredEvent, SqliteEventStore } from '@lifeline/event-store';
import * as current from '@lifeline/read-models';
import { bearer, LifelineProcess } from './lib/lifeline-server';
import { inParallel } from './lib/measure';
import { postRecords, publishDefinition } from './peers/lifeline-peer';
import { REVIEWERS, resultOf } from './peers/scenario';

const N = Number(process.env.BENCH_RM_N ?? 10_000);
const ROUNDS = Number(process.env.BENCH_RM_ROUNDS ?? 3);
const BATCHES = (process.env.BENCH_RM_BATCH ?? '2000,40').split(',').map(Number);
const REVIEWER = bearer('bench-reviewer', [REVIEWERS]);

/** What the bench needs of a build's read-models library (this one, or a baseline's dist). */
interface ReadModelsLib {
  ReadModelDb: typeof current.ReadModelDb;
  Projector: typeof current.Projector;
  allProjections: typeof current.allProjections;
}

interface Phase {
  name: string;
  events: StoredEvent[];
  /** Entity events (records posted) the phase's events come from. */
  records: number;
}

/** Posts N records to the built server, completes every task, and keeps its store. */
async function serverEvents(n: number): Promise<{ file: string; server: LifelineProcess }> {
  const server = new LifelineProcess();
  await server.start({ LIFELINE_DEMO: 'false' });
  await publishDefinition(server);
  await postRecords(server, 'r', 0, n);
  let completed = 0;
  for (;;) {
    const page = await server.request<{ items: { id: string }[] }>('GET', '/tasks?status=open&limit=500', REVIEWER);
    if (page.items.length === 0) {
      if (completed >= n) break;
      await new Promise((r) => setTimeout(r, 20));
      continue;
    }
    await inParallel(page.items, 4, (task, i) =>
      server.request('POST', `/tasks/${encodeURIComponent(task.id)}/complete`, REVIEWER, { result: resultOf(i) }),
    );
    completed += page.items.length;
  }
  await server.stop({ keepData: true });
  const file = readdirSync(server.dataDir)
    .map((name) => join(server.dataDir, name))
    .find((path) => {
      if (/-(wal|shm|journal)$/.test(path) || path.endsWith('read-models.db')) return false;
      try {
        const db = new Database(path, { readonly: true, fileMustExist: true });
        const found = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'events'").get();
        db.close();
        return found !== undefined;
      } catch {
        return false;
      }
    });
  if (!file) throw new Error(`no event store in ${server.dataDir}`);
  return { file, server };
}

async function readEvents(file: string): Promise<StoredEvent[]> {
  const store = SqliteEventStore.open(file, { readonly: true });
  const events: StoredEvent[] = [];
  for (;;) {
    const batch = await store.readAll(events.length === 0 ? 0 : events[events.length - 1]!.position, 10_000);
    if (batch.length === 0) break;
    events.push(...batch);
  }
  await store.close();
  return events;
}

/** The start phase ends where the first task completion begins. */
function phases(events: StoredEvent[]): Phase[] {
  const records = events.filter((e) => e.type === 'EntityEventRecorded').length;
  const split = events.findIndex((e) => e.type === 'TaskCompleted');
  const start = split < 0 ? events : events.slice(0, split);
  const complete = split < 0 ? [] : events.slice(split);
  const completions = complete.filter((e) => e.type === 'TaskCompleted').length;
  return [
    { name: 'start', events: start, records },
    { name: 'complete', events: complete, records: completions },
  ];
}

/** CPU µs (user + system) spent in applyBatch, and in the WAL checkpoints every 2,000 events (timed apart). */
function run(
  lib: ReadModelsLib,
  names: string[] | 'all',
  list: Phase[],
  batchSize: number,
): { apply: number[]; checkpoint: number } {
  const dir = mkdtempSync(join(tmpdir(), 'lifeline-rm-bench-'));
  const db = lib.ReadModelDb.open(join(dir, 'read-models.db'));
  // The server checkpoints on a worker thread: here every 2,000 events, timed apart.
  db.sql.pragma('wal_autocheckpoint = 0');
  const projections = lib.allProjections().filter((p) => names === 'all' || names.includes(p.name));
  const projector = new lib.Projector(db, projections);
  const apply: number[] = [];
  let checkpoint = 0;
  try {
    for (const phase of list) {
      let spent = 0;
      for (let i = 0; i < phase.events.length; i += batchSize) {
        const batch = phase.events.slice(i, i + batchSize);
        const before = process.cpuUsage();
        projector.applyBatch(batch);
        const used = process.cpuUsage(before);
        spent += used.user + used.system;
        // About as often as the server's checkpointer (every 250 ms) at a few thousand events a second.
        if (Math.floor((i + batch.length) / 2_000) === Math.floor(i / 2_000)) continue;
        const c = process.cpuUsage();
        db.sql.pragma('wal_checkpoint(PASSIVE)');
        const cu = process.cpuUsage(c);
        checkpoint += cu.user + cu.system;
      }
      apply.push(spent);
    }
  } finally {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }
  return { apply, checkpoint };
}

const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

async function main(): Promise<void> {
  let server: LifelineProcess | undefined;
  let file = process.env.BENCH_RM_STORE;
  if (!file) {
    console.error(`posting ${N} records to the built server and completing their tasks…`);
    ({ file, server } = await serverEvents(N));
    if (process.env.BENCH_RM_SAVE) {
      const store = new Database(file);
      await store.backup(process.env.BENCH_RM_SAVE);
      store.close();
    }
  }
  const events = await readEvents(file);
  server?.removeData();
  const list = phases(events);
  const libs: [string, ReadModelsLib][] = [['this build', current]];
  if (process.env.BENCH_RM_BASELINE) {
    const base = join(process.env.BENCH_RM_BASELINE, 'libs/read-models/src/index.js');
    libs.unshift(['baseline', (await import(base)) as ReadModelsLib]);
  }
  const rows: (string[] | 'all')[] = (
    process.env.BENCH_RM_ONLY ?? [...current.allProjections().map((p) => p.name), 'all'].join(',')
  )
    .split(',')
    .map((name) => (name === 'all' ? 'all' : [name]));
  console.error(
    `${events.length} events: ${list.map((p) => `${p.name} ${p.events.length} events of ${p.records} entity events`).join(', ')}`,
  );
  // Warm the JIT on every build before anything is timed.
  for (const [, lib] of libs)
    run(
      lib,
      'all',
      list.map((p) => ({ ...p, events: p.events.slice(0, 8_000) })),
      2_000,
    );
  console.log(
    `| projection | batch | build | start µs/entity event | complete µs/entity event | checkpoint µs/entity event |`,
  );
  console.log(`| --- | ---: | --- | ---: | ---: | ---: |`);
  for (const batch of BATCHES)
    for (const names of rows) {
      const samples = new Map(libs.map(([label]) => [label, [] as { apply: number[]; checkpoint: number }[]]));
      for (let round = 0; round < ROUNDS; round++) {
        for (const [label, lib] of libs) samples.get(label)!.push(run(lib, names, list, batch));
      }
      for (const [label] of libs) {
        const s = samples.get(label)!;
        const cells = list.map((phase, i) => (phase.records ? median(s.map((x) => x.apply[i]!)) / phase.records : 0));
        const records = list.reduce((sum, p) => sum + p.records, 0);
        const checkpoint = median(s.map((x) => x.checkpoint)) / Math.max(records, 1);
        console.log(
          `| ${names === 'all' ? 'all' : names.join(',')} | ${batch} | ${label} | ${cells.map((c) => c.toFixed(1)).join(' | ')} | ${checkpoint.toFixed(1)} |`,
        );
      }
    }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
