/**
 * Read-model rebuild throughput (target >= 50,000 events/s) and task-list page latency.
 * Not a test. Run (relative imports, so it compiles on its own):
 *   npx tsc --outDir /tmp/lifeline-bench --module commonjs --target es2022 --esModuleInterop --skipLibCheck \
 *     --rootDir . bench/replay.bench.ts && NODE_PATH=$PWD/node_modules node /tmp/lifeline-bench/bench/replay.bench.js [events] [tasks]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { type StoredEvent, SqliteEventStore } from '@lifeline/event-store';
import {
  allProjections,
  Projector,
  ReadModelDb,
  rebuildReadModels,
  listTasks,
  type TaskViewer,
} from '@lifeline/read-models';
import { syntheticLog, appendToStore } from '@lifeline/read-models/testing';

/** A user with `count` open tasks of their own, plus role tasks, then the time to read pages of 50. */
function pageLatency(dir: string, count: number): { pageMs: number; lastPageMs: number; ownTasks: number } {
  const db = ReadModelDb.open(join(dir, 'tasks.sqlite'), { bulk: true });
  const projector = new Projector(db, allProjections());
  const at = '2026-11-21T10:00:00.000Z';
  let position = 0;
  const event = (streamId: string, type: string, data: unknown): StoredEvent => {
    position += 1;
    const id = `e-${position}`;
    return {
      id,
      type,
      data,
      streamId,
      revision: 0,
      position,
      metadata: { messageId: id, correlationId: id, causationId: id, actor: 'system', at },
    };
  };
  projector.applyBatch([
    event('instance-big', 'InstanceStarted', {
      instanceId: 'big',
      definitionKey: 'invoice-approval',
      definitionVersion: 1,
      definitionName: 'Invoice approval',
      entity: { type: 'Invoice', id: 'INV-1' },
      variables: {},
      cause: { kind: 'api' },
    }),
  ]);
  // `count` open tasks of alice's own, and a quarter as many unassigned tasks of her two roles.
  let minute = 0;
  const task = (taskId: string, assignee: { user?: string; role?: string }): StoredEvent => {
    minute += 1;
    const created = new Date(Date.parse(at) + minute * 60_000).toISOString();
    const stored = event('instance-big', 'TaskCreated', {
      taskId,
      activityId: 'review',
      title: `Task ${taskId}`,
      assignee,
      startAt: created,
      rule: { role: 'accounting' },
    });
    stored.metadata.at = created;
    return stored;
  };
  for (let done = 0; done < count;) {
    const batch: StoredEvent[] = [];
    for (let i = 0; i < 20_000 && done < count; i += 1, done += 1) {
      batch.push(task(`t-${done}`, { user: 'alice' }));
      if (done % 4 === 0) batch.push(task(`r-${done}`, { role: done % 8 === 0 ? 'accounting' : 'legal' }));
    }
    projector.applyBatch(batch);
  }
  db.finishBulk();
  const viewer: TaskViewer = { user: 'alice', roles: ['accounting', 'legal'], admin: false };
  const now = new Date(Date.parse(at) + (minute + 1) * 60_000).toISOString();
  listTasks(db.sql, viewer, { limit: 50 }, now);
  const runs = 200;
  let started = performance.now();
  for (let i = 0; i < runs; i += 1) listTasks(db.sql, viewer, { limit: 50 }, now);
  const pageMs = (performance.now() - started) / runs;
  started = performance.now();
  for (let i = 0; i < 20; i += 1) listTasks(db.sql, viewer, { limit: 50, offset: 1000 }, now);
  const lastPageMs = (performance.now() - started) / 20;
  const ownTasks = (
    db.sql.prepare("SELECT count(*) AS n FROM tasks WHERE assignee = 'alice' AND open = 1").get() as { n: number }
  ).n;
  db.close();
  return { pageMs, lastPageMs, ownTasks };
}

function perCpuSecond(events: number, used: NodeJS.CpuUsage): number {
  return Math.round(events / ((used.user + used.system) / 1e6));
}

async function main(): Promise<void> {
  const events = Number(process.argv[2] ?? 200_000);
  const tasks = Number(process.argv[3] ?? 1_000_000);
  const dir = mkdtempSync(join(tmpdir(), 'lifeline-replay-bench-'));
  try {
    const log = syntheticLog(events, 42);
    const rows: Record<string, string | number>[] = [];

    // CPU time too: on a shared 2-core machine, wall time also measures the neighbours.
    let cpu = process.cpuUsage();
    const fromMemory = await rebuildReadModels(log, join(dir, 'from-memory.sqlite'));
    rows.push({
      replay: 'projections only (log in memory)',
      events: fromMemory.events,
      seconds: +(fromMemory.elapsedMs / 1000).toFixed(2),
      eventsPerSecond: fromMemory.eventsPerSecond,
      eventsPerCpuSecond: perCpuSecond(fromMemory.events, process.cpuUsage(cpu)),
    });

    const store = SqliteEventStore.open(join(dir, 'events.sqlite'));
    await appendToStore(store, log.events, 1000);
    cpu = process.cpuUsage();
    const fromStore = await rebuildReadModels(store, join(dir, 'from-store.sqlite'));
    rows.push({
      replay: 'SQLite event store -> read models',
      events: fromStore.events,
      seconds: +(fromStore.elapsedMs / 1000).toFixed(2),
      eventsPerSecond: fromStore.eventsPerSecond,
      eventsPerCpuSecond: perCpuSecond(fromStore.events, process.cpuUsage(cpu)),
    });
    await store.close();
    console.table(rows);

    if (tasks > 0) {
      const latency = pageLatency(dir, tasks);
      console.table([
        { query: 'first page of 50 (own + 2 roles)', ownOpenTasks: latency.ownTasks, ms: +latency.pageMs.toFixed(3) },
        { query: 'page of 50 at offset 1000', ownOpenTasks: latency.ownTasks, ms: +latency.lastPageMs.toFixed(3) },
      ]);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
