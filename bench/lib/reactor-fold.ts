import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes, randomUUID } from 'node:crypto';
import pino from 'pino';
import { copyHistory, partitionOf, PostgresEventStore, SqliteEventStore, type EventStore } from '@lifeline/event-store';
import {
  concernsReactions,
  decodeEvent,
  partitionKeyOfRecord,
  validateEnvelope,
  type Actor,
} from '@lifeline/process-domain';
import { INVOICE_APPROVAL_YAML } from '@lifeline/process-domain/testing';
import {
  EngineDb,
  EngineRuntime,
  isInfrastructureError,
  loadConfig,
  Reactor,
  ReactorState,
  type ReactionEffects,
} from '@lifeline/engine';
import { invoiceEnvelope } from './invoice-envelope';
import { dropTestSchema, testPostgresUrl, uniqueTestSchema } from '@lifeline/event-store/testing';

/**
 * The reactor's fold without reacting (`Reactor.foldUpTo`, `handle(react = false)`): what an engine pays to rebuild
 * reactor state from the log, for each partition it takes over (docs/scaling.md). Used by
 * `bench/reactor-fold.bench.ts` and the `fold` row of `npm run bench`.
 */

const silent = pino({ level: 'silent' });
const REVIEWER: Actor = { id: 'bench-reviewer', roles: ['accounting'] };

export interface FoldLog {
  /** The SQLite events file the engine wrote (its reactor tables hold the live state). */
  file: string;
  events: number;
  /** Of them, the events the reactor folds (`concernsReactions`); it decodes and skips the others. */
  concerning: number;
  records: number;
  /** What the engine's own reactor held at the end: the fold must arrive at the same. */
  live: { records: number; waitingInstances: number; timers: number };
  /** The record of every waiting instance and of every timer the live reactor held (for a partition's share). */
  liveRecords: { instances: string[]; timers: string[] };
  /** Every record's key (`entity-Invoice-<id>`). */
  recordKeys: string[];
  seconds: number;
}

/** One partition taken over: its events read by partition and folded, as a distributed engine does on a move. */
export interface PartitionFoldFigure {
  partition: number;
  count: number;
  /** Events of the partition folded, of the log's `logEvents`. */
  events: number;
  logEvents: number;
  seconds: number;
  cpuMicrosPerEvent: number;
  state: { records: number; waitingInstances: number; timers: number };
}

export interface FoldFigure {
  store: string;
  events: number;
  seconds: number;
  eventsPerSecond: number;
  cpuMicrosPerEvent: number;
  state: { records: number; waitingInstances: number; timers: number };
}

/** A unit that must never be asked to react: the fold only folds. */
class NoReactions implements ReactionEffects {
  calls = 0;
  async apply(): Promise<void> {
    this.calls++;
    throw new Error('a fold must not react');
  }
  async failed(): Promise<void> {
    this.calls++;
  }
}

/**
 * A log written by the engine in process (EngineRuntime on SQLite, the README's invoice approval): `records`
 * invoices created 500 per unit (each starts an instance: its review task); every review completed, 2 in 3
 * approved (the instance then waits for the record, with a 30-day timeout timer) and 1 in 3 rejected (it ends);
 * half the waiting records updated to ClearedForPayment (the wait is satisfied, the pay task is created). So the
 * log has entity events, instance events, waits and timers, in the engine's own shapes.
 */
export async function engineLog(dir: string, records: number): Promise<FoldLog> {
  const started = performance.now();
  const engine = await EngineRuntime.create(
    loadConfig({ LIFELINE_DATA_DIR: dir, LIFELINE_TIMER_TICK_MS: '0', LOG_LEVEL: 'silent' }),
    { logger: silent },
  );
  const run = `f${randomBytes(3).toString('hex')}`;
  const at = new Date().toISOString();
  const record = async (envelopes: object[]) => {
    const batch = envelopes.map((e) => {
      const checked = validateEnvelope(JSON.parse(JSON.stringify(e)));
      if (!checked.ok) throw new Error(JSON.stringify(checked.issues));
      return { envelope: checked.envelope, source: { kind: 'http' as const } };
    });
    await engine.ingest.record(batch);
  };
  let live: FoldLog['live'];
  try {
    await engine.start();
    await engine.definitions.publish(INVOICE_APPROVAL_YAML, 'application/yaml', 'root');
    for (let i = 0; i < records; i += 500) {
      await record(Array.from({ length: Math.min(500, records - i) }, (_, j) => invoiceEnvelope(run, i + j, {}, at)));
    }
    // The review tasks, by record (TaskCreated on each instance's stream).
    const reviews: { taskId: string; i: number }[] = [];
    for (let from = 0; ;) {
      const page = await engine.store.readAll(from, 5_000, ['instance-']);
      if (page.length === 0) break;
      for (const event of page) {
        const data = event.data as { taskId?: string; activityId?: string };
        if (event.type === 'TaskCreated' && data.activityId === 'review') {
          const entity = await engine.store.readStream(event.streamId, { maxCount: 1 });
          const id = (entity[0]!.data as { entity: { id: string } }).entity.id;
          reviews.push({ taskId: data.taskId!, i: Number(id.slice(id.lastIndexOf('-') + 1)) });
        }
      }
      from = page[page.length - 1]!.position;
    }
    if (reviews.length !== records) throw new Error(`${reviews.length} review tasks for ${records} records`);
    // Completions 50 at a time: they share commits, as concurrent requests do.
    for (let k = 0; k < reviews.length; k += 50) {
      await Promise.all(
        reviews.slice(k, k + 50).map(({ taskId, i }) => {
          const id = randomUUID();
          return engine.instances.execute(
            taskId.slice(0, taskId.indexOf('.')),
            { type: 'CompleteTask', taskId, result: i % 3 === 2 ? 'Reject' : 'Approve' },
            REVIEWER,
            { commandId: id, correlationId: id, causationId: id },
          );
        }),
      );
    }
    const cleared = reviews.filter(({ i }) => i % 3 !== 2 && i % 2 === 0).map(({ i }) => i);
    for (let k = 0; k < cleared.length; k += 500) {
      await record(
        cleared.slice(k, k + 500).map((i) => ({
          ...invoiceEnvelope(run, i, { status: 'ClearedForPayment' }, at),
          id: `${run}-${i}-cleared`,
          kind: 'updated' as const,
          changed: ['status'],
        })),
      );
    }
    live = engine.reactor.state.counts();
  } finally {
    await engine.close();
  }
  const file = join(dir, 'events.db');
  const store = SqliteEventStore.open(file);
  let events = 0;
  let concerning = 0;
  const recordOf = (table: string) =>
    store.sidecar
      .prepare<[], { record_key: string }>(`SELECT record_key FROM ${table}`)
      .all()
      .map((row) => row.record_key);
  const liveRecords = { instances: recordOf('reactor_instances'), timers: recordOf('reactor_timers') };
  const recordKeys = Array.from({ length: records }, (_, i) => `entity-Invoice-${invoiceEnvelope(run, i).entityId}`);
  try {
    for (let from = 0; ;) {
      const page = await store.readAll(from, 5_000);
      if (page.length === 0) break;
      events += page.length;
      for (const event of page) if (concernsReactions(decodeEvent(event))) concerning++;
      from = page[page.length - 1]!.position;
    }
  } finally {
    await store.close();
  }
  return {
    file,
    events,
    concerning,
    records,
    live,
    liveRecords,
    recordKeys,
    seconds: (performance.now() - started) / 1000,
  };
}

/** Folds the whole log of `store` into `state`, in one unit; returns the figure and checks nothing reacted. */
async function foldAll(
  label: string,
  store: EventStore,
  state: ReactorState,
  wrap: <T>(work: () => Promise<T>) => Promise<T>,
): Promise<FoldFigure> {
  const effects = new NoReactions();
  const reactor = new Reactor(state, effects, isInfrastructureError, silent);
  const head = await store.headPosition();
  const cpu = process.cpuUsage();
  const started = performance.now();
  const folded = await wrap(() => store.unitOfWork((tx) => reactor.foldUpTo(tx, head)));
  const seconds = (performance.now() - started) / 1000;
  const used = process.cpuUsage(cpu);
  if (folded !== head) throw new Error(`folded to ${folded}, the head is ${head}`);
  if (effects.calls !== 0) throw new Error(`the fold reacted ${effects.calls} times`);
  return {
    store: label,
    events: head,
    seconds,
    eventsPerSecond: head / seconds,
    cpuMicrosPerEvent: (used.user + used.system) / head,
    state: state.counts(),
  };
}

const REACTOR_TABLES = [
  'reactor_meta',
  'reactor_definitions',
  'reactor_records',
  'reactor_instances',
  'reactor_timers',
];

/**
 * The embedded engine's case: the log and the reactor's state in one SQLite file; the state emptied, then folded
 * again from the log, `rounds` times. The state must come back as the live reactor left it.
 */
export async function foldSqlite(log: FoldLog, rounds: number): Promise<FoldFigure[]> {
  const store = SqliteEventStore.open(log.file);
  const figures: FoldFigure[] = [];
  try {
    for (let r = 0; r < rounds; r++) {
      for (const table of REACTOR_TABLES) store.sidecar.exec(`DELETE FROM ${table}`);
      const state = new ReactorState(store.sidecar, true);
      const figure = await foldAll('sqlite (state in the store file)', store, state, (work) => work());
      sameState(figure, log.live);
      figures.push(figure);
    }
  } finally {
    await store.close();
  }
  return figures;
}

/** The engine database's transaction around `work`, as the runner keeps the reactor's state and checkpoint together. */
async function inTransaction<T>(db: EngineDb['sql'], work: () => Promise<T>): Promise<T> {
  db.exec('BEGIN IMMEDIATE');
  try {
    const result = await work();
    db.exec('COMMIT');
    return result;
  } finally {
    if (db.inTransaction) db.exec('ROLLBACK');
  }
}

/**
 * A distributed engine's case, on PostgreSQL (the log copied there from the engine's file, each event's
 * `partition_hash` from its `partitionKey`), the reactor's state in an engine database of its own (every record's
 * state is a row: the data is not read from the log). Per round:
 *   - the whole log folded (`foldUpTo` in one unit, which holds the log's lock), the rate F;
 *   - one partition of `count` taken over as `ReactionsRunner.foldPartition` does it: the partition's events read
 *     2,000 at a time by partition (`readPartitions`, the server filtering `partition_hash % count`), each chunk
 *     folded without reacting (`Reactor.foldOnly`) in one transaction of the engine database with the partition's
 *     checkpoint. Each fold is checked against the live reactor's state (its partition's share of it).
 * Skipped (undefined) without a reachable cluster.
 */
export async function foldPostgres(
  log: FoldLog,
  rounds: number,
  dir: string,
  count = 12,
): Promise<{ whole: FoldFigure[]; partitions: PartitionFoldFigure[] } | undefined> {
  const url = testPostgresUrl();
  if (url === undefined) return undefined;
  const schema = uniqueTestSchema('bench_fold');
  const source = SqliteEventStore.open(log.file, { readonly: true });
  const store = await PostgresEventStore.connect(url, { schema });
  const whole: FoldFigure[] = [];
  const partitions: PartitionFoldFigure[] = [];
  try {
    await copyHistory(source, store, { batchSize: 1_000 });
    const head = await store.headPosition();
    for (let r = 0; r < rounds; r++) {
      const engineDb = EngineDb.open(join(dir, `engine-${r}.db`));
      try {
        const figure = await foldAll(
          'postgres (state in the engine db)',
          store,
          new ReactorState(engineDb.sql),
          (work) => inTransaction(engineDb.sql, work),
        );
        // Every record has a row here (its data too); the waits and timers are the live reactor's.
        sameState(figure, { ...log.live, records: log.records });
        whole.push(figure);
      } finally {
        engineDb.close();
      }
      const partition = r % count;
      const partitionDb = EngineDb.open(join(dir, `engine-${r}-p${partition}.db`));
      try {
        const state = new ReactorState(partitionDb.sql);
        const effects = new NoReactions();
        const reactor = new Reactor(state, effects, isInfrastructureError, silent);
        const filter = { count, owned: [partition], unpartitioned: false };
        let position = 0;
        let events = 0;
        const cpu = process.cpuUsage();
        const started = performance.now();
        while (position < head) {
          const chunk = await store.readPartitions(position, 2_000, filter);
          const last = chunk.at(-1)?.position ?? head;
          await inTransaction(partitionDb.sql, async () => {
            await reactor.foldOnly(chunk);
            state.setPartitionCheckpoint(partition, last);
          });
          events += chunk.length;
          position = last;
        }
        const seconds = (performance.now() - started) / 1000;
        const used = process.cpuUsage(cpu);
        if (effects.calls !== 0) throw new Error(`the fold reacted ${effects.calls} times`);
        const mine = (key: string) => partitionOf(partitionKeyOfRecord(key), count) === partition;
        const expected = {
          records: log.recordKeys.filter(mine).length,
          waitingInstances: log.liveRecords.instances.filter(mine).length,
          timers: log.liveRecords.timers.filter(mine).length,
        };
        const folded: PartitionFoldFigure = {
          partition,
          count,
          events,
          logEvents: head,
          seconds,
          cpuMicrosPerEvent: (used.user + used.system) / events,
          state: state.counts(),
        };
        sameState({ store: `postgres, partition ${partition} of ${count}`, state: folded.state }, expected);
        partitions.push(folded);
      } finally {
        partitionDb.close();
      }
    }
  } finally {
    await source.close();
    await store.close();
    await dropTestSchema(url, schema);
  }
  return { whole, partitions };
}

function sameState(figure: Pick<FoldFigure, 'store' | 'state'>, expected: FoldLog['live']): void {
  const { state } = figure;
  if (
    state.records !== expected.records ||
    state.waitingInstances !== expected.waitingInstances ||
    state.timers !== expected.timers
  ) {
    throw new Error(`${figure.store}: folded ${JSON.stringify(state)}, expected ${JSON.stringify(expected)}`);
  }
}

/** A fresh directory for a log, removed by the returned function. */
export function foldDir(): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'lifeline-fold-'));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
