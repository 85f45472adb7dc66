/**
 * Append throughput of the SQLite event store: one event or 100 events per transaction, events/s
 * and CPU microseconds per event (each event is hashed into its stream chain and the global chain);
 * and the engine-shaped rows: CPU microseconds per entity event, appended as the engine appends it,
 * 500 entity events per unit of work (a big ingest post) or 10 per unit, each unit its own commit
 * (a small post at a fixed rate: the commit is most of the cost).
 * Not a test. Run: `npm run -s build && node dist/bench/event-store.bench.js`.
 *
 *   BENCH_STORE_ROWS=throughput,engine,small,stores   which rows to run (these by default; `writers` on demand)
 *   BENCH_STORE_BASE=<other builds' dist/libs/event-store/src/sqlite/sqlite-event-store.js, comma-separated>
 *     runs the engine-shaped rows against those builds too, in alternating rounds (a before/after in one run)
 *   BENCH_STORE_N=20000 entity events per round (5000 in the small row), BENCH_STORE_ROUNDS=5
 *   BENCH_STORE_SPLIT=1 prints each round's user and system CPU, of the process and of its main thread (Linux)
 *   BENCH_STORE_TOGETHER=1 units submitted at once (they share a commit: 2 is two ingest posts in flight)
 * The `stores` row puts SQLite and PostgreSQL side by side in one run: appends/s of one event each, awaited one by
 * one (a commit each); units/s of engine-shaped units (an entity event and its instance's 3 events) submitted 32 at a
 * time (group commit); readAll events/s in pages of 500. PostgreSQL is LIFELINE_POSTGRES_URL, else the cluster of
 * infra/postgres/start.sh when it answers (skipped otherwise), in a schema of its own dropped afterwards.
 *   BENCH_STORES_N=2000 single appends, BENCH_STORES_UNITS=4000 units
 * The `writers` row is the write rate against concurrency (docs/scaling.md): for each W in BENCH_WRITERS (1,4,16,64),
 * W engine-shaped units kept in flight (closed loop: a unit is submitted as soon as one is answered) for
 * BENCH_WRITERS_SECONDS (3) after a 0.5 s warm-up; units/s, events/s, units per commit (group commit) and this
 * process's CPU per unit. SQLite, then PostgreSQL with the cluster's synchronous_commit and with it on (a commit
 * waits for its WAL flush), then BENCH_WRITERS_CONNECTIONS (2,4) stores on PostgreSQL at the largest W, the units
 * split between them: separate writer connections, as separate engines have, contending for the one log head.
 *   BENCH_WRITERS_PER_UNIT=1 entity events per unit (each with its instance's 3 events: 4 events per entity event)
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes, randomUUID } from 'node:crypto';
import pg from 'pg';
import {
  type EventStore,
  type NewEvent,
  type StoreTx,
  PostgresEventStore,
  SqliteEventStore,
} from '@lifeline/event-store';
import { invoiceEnvelope } from './lib/invoice-envelope';
import { testPostgresUrl, uniqueTestSchema } from '@lifeline/event-store/testing';
import { roundTripCounter, withSetting } from './lib/postgres';

type EventIds = 'random' | 'ordered';

/** Ordered ids (UUIDv7-like: a counter in the high bits) keep the unique id index append-only. */
function eventId(kind: EventIds, n: number): string {
  if (kind === 'random') return randomUUID();
  return `${n.toString(16).padStart(12, '0')}-7000-8000-0000-000000000000`.replace(/^(.{8})(.{4})/, '$1-$2');
}

async function appendThroughput(
  synchronous: 'NORMAL' | 'FULL',
  ids: EventIds,
  batches: number,
  batchSize: number,
): Promise<{ eventsPerSecond: number; cpuMicrosPerEvent: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'lifeline-bench-'));
  const store = SqliteEventStore.open(join(dir, 'events.db'), { synchronous });
  try {
    const batchesOfEvents: NewEvent[][] = [];
    for (let b = 0; b < batches; b++) {
      const events: NewEvent[] = [];
      for (let i = 0; i < batchSize; i++) {
        events.push({
          id: eventId(ids, b * batchSize + i),
          type: 'ActivityEntered',
          data: { instanceId: `i-${b}`, activityId: 'review', definitionKey: 'invoice-approval', version: 3, n: i },
          metadata: { correlationId: 'c-1', causationId: 'c-1', actor: 'system', at: '2026-11-21T10:00:00.000Z' },
        });
      }
      batchesOfEvents.push(events);
    }
    const started = process.hrtime.bigint();
    const cpu = process.cpuUsage();
    for (let b = 0; b < batches; b++) {
      // A stream per batch, appended like a command handler does: with the expected revision.
      await store.append({ streamId: `instance-${b}`, events: batchesOfEvents[b]!, expectedRevision: 'no-stream' });
    }
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const used = process.cpuUsage(cpu);
    const events = batches * batchSize;
    // CPU per event is what the store costs; events/s also measures the disk and the neighbours.
    return {
      eventsPerSecond: Math.round(events / seconds),
      cpuMicrosPerEvent: Math.round(((used.user + used.system) / events) * 10) / 10,
    };
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Metadata as the engine builds it (services/engine/src/shared/metadata.ts): the same object for a command's events. */
const metadataOf = (correlationId: string, causationId: string, actor: string, at: string) => ({
  correlationId,
  causationId,
  actor,
  at,
});

/** A v7-layout id: milliseconds, then random bits (the engine's timeOrderedUuid, whose tail is a hash). */
function timeOrderedId(ms: number): string {
  const hex = ms.toString(16).padStart(12, '0') + randomBytes(10).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-7${hex.slice(13, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

interface EntityEventWrites {
  entity: { streamId: string; event: NewEvent };
  instance: { streamId: string; events: NewEvent[] };
}

/**
 * What the engine appends for one entity event that starts the seed definition `invoice-approval`:
 * EntityEventRecorded on `entity-Invoice-<id>`, and InstanceStarted, ActivityEntered, TaskCreated on
 * `instance-<uuid>`, with data objects built in the engine's key order (not sorted).
 */
function entityEventWrites(run: string, i: number, at: string, ms: number): EntityEventWrites {
  const entityEventId = randomUUID();
  const entityId = `${run}-INV-${i}`;
  const instanceId = timeOrderedId(ms);
  const systemMetadata = metadataOf(entityEventId, entityEventId, 'system', at);
  const dueAt = new Date(ms + 2 * 86_400_000).toISOString();
  return {
    entity: {
      streamId: `entity-Invoice-${entityId}`,
      event: {
        id: entityEventId,
        type: 'EntityEventRecorded',
        data: {
          envelope: invoiceEnvelope(run, i, {}, at),
          source: { kind: 'http' },
        },
        metadata: metadataOf(entityEventId, entityEventId, 'bench-app', at),
      },
    },
    instance: {
      streamId: `instance-${instanceId}`,
      events: [
        {
          id: timeOrderedId(ms),
          type: 'InstanceStarted',
          data: {
            instanceId,
            definitionKey: 'invoice-approval',
            definitionVersion: 1,
            definitionName: 'Invoice approval',
            entity: { type: 'Invoice', id: entityId },
            variables: {},
            cause: { kind: 'trigger', triggerIndex: 0, entityEventId: `${run}-${i}`, delayed: false },
          },
          metadata: systemMetadata,
        },
        {
          id: timeOrderedId(ms),
          type: 'ActivityEntered',
          data: { activityId: 'review', activityType: 'human', visit: 1 },
          metadata: systemMetadata,
        },
        {
          id: timeOrderedId(ms),
          type: 'TaskCreated',
          data: {
            taskId: `${instanceId}.review.1`,
            activityId: 'review',
            title: 'Review the invoice',
            instructions: 'Check the supplier and the amount.',
            hint: 'Invoices above 10000 need a second look.',
            assignee: { role: 'accounting' },
            startAt: at,
            dueAt,
            results: ['Approve', 'Reject'],
            form: [{ name: 'comment', type: 'text', required: false }],
            rule: { role: 'accounting' },
          },
          metadata: systemMetadata,
        },
      ],
    },
  };
}

/**
 * One ingest post as the engine writes it (services/engine/src/ingest, reactions/reactor.ts): one
 * unit of work; a 1-event append per entity event, then each start reaction in a nested savepoint
 * (tx.attempt) appending 3 events to a new instance stream.
 */
async function engineUnit(tx: StoreTx, writes: EntityEventWrites[]): Promise<void> {
  for (const { entity } of writes) {
    await tx.append({ streamId: entity.streamId, events: [entity.event], expectedRevision: 'any' });
  }
  for (const { instance } of writes) {
    await tx.attempt(() =>
      tx.append({ streamId: instance.streamId, events: instance.events, expectedRevision: 'no-stream' }),
    );
  }
}

/** The main thread's user and system CPU, in clock ticks (Linux): what the store costs without the checkpoint worker. */
function mainThreadTicks(): [number, number] {
  const fields = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return [Number(fields[11]), Number(fields[12])];
}

type OpenStore = (file: string) => EventStore;

/** CPU microseconds per entity event over `n` entity events, `perUnit` per unit of work (one ingest post each). */
async function engineShaped(
  open: OpenStore,
  run: string,
  n: number,
  together: number,
  perUnit: number,
): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'lifeline-bench-'));
  const store = open(join(dir, 'events.db'));
  try {
    const at = new Date().toISOString();
    const ms = Date.parse(at);
    const units: EntityEventWrites[][] = [];
    for (let u = 0; u < n / perUnit; u++) {
      units.push(Array.from({ length: perUnit }, (_, i) => entityEventWrites(run, u * perUnit + i, at, ms)));
    }
    const cpu = process.cpuUsage();
    const main0 = mainThreadTicks();
    // Units submitted together share a commit (as two ingest posts in flight do), each after the first in a savepoint.
    for (let u = 0; u < units.length; u += together) {
      await Promise.all(units.slice(u, u + together).map((unit) => store.unitOfWork((tx) => engineUnit(tx, unit))));
    }
    const used = process.cpuUsage(cpu);
    if (process.env.BENCH_STORE_SPLIT) {
      const main = mainThreadTicks();
      console.log(
        `user ${(used.user / n).toFixed(1)} sys ${(used.system / n).toFixed(1)} main-thread user ${(((main[0] - main0[0]) * 1e4) / n).toFixed(1)} sys ${(((main[1] - main0[1]) * 1e4) / n).toFixed(1)}`,
      );
    }
    return Math.round(((used.user + used.system) / n) * 10) / 10;
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function engineRows(perUnit: number, defaultN: number): Promise<void> {
  const n = Number(process.env.BENCH_STORE_N ?? defaultN);
  const rounds = Number(process.env.BENCH_STORE_ROUNDS ?? 5);
  const together = Number(process.env.BENCH_STORE_TOGETHER ?? 1);
  const builds: { build: string; open: OpenStore }[] = [
    { build: 'this build', open: (file) => SqliteEventStore.open(file) },
  ];
  // Other builds (comma-separated) run first, in the order given.
  const bases = (process.env.BENCH_STORE_BASE ?? '').split(',').filter(Boolean);
  for (const base of bases.reverse()) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const other = require(base) as { SqliteEventStore: typeof SqliteEventStore };
    builds.unshift({
      build: base.replace(/\/dist\/libs\/event-store\/.*$/, ''),
      open: (file) => other.SqliteEventStore.open(file),
    });
  }
  // A warm-up round each (JIT), then alternating rounds so neighbours' load falls on every build alike.
  for (const { open } of builds) await engineShaped(open, 'warm', 5_000, together, perUnit);
  const samples = builds.map(() => [] as number[]);
  for (let r = 0; r < rounds; r++) {
    for (let b = 0; b < builds.length; b++)
      samples[b]!.push(await engineShaped(builds[b]!.open, `r${r}`, n, together, perUnit));
  }
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
  console.table(
    builds.map(({ build }, b) => ({
      build,
      entityEvents: n,
      perUnit,
      unitsPerCommit: together,
      cpuMicrosPerEntityEvent: median(samples[b]!),
      min: Math.min(...samples[b]!),
      // Each round's ratio to the first build's round beside it: robust to the machine's load drifting.
      vsFirst: median(samples[b]!.map((v, r) => v / samples[0]![r]!)).toFixed(3),
      rounds: samples[b]!.join(' '),
    })),
  );
}

async function throughputRows(): Promise<void> {
  const rows: {
    store: string;
    synchronous: string;
    eventIds: EventIds;
    batchSize: number;
    eventsPerSecond: number;
    cpuMicrosPerEvent: number;
  }[] = [];
  for (const synchronous of ['NORMAL', 'FULL'] as const) {
    for (const eventIds of ['random', 'ordered'] as const) {
      for (const batchSize of [1, 100]) {
        const batches = batchSize === 1 ? 5_000 : 1_000;
        const measured = await appendThroughput(synchronous, eventIds, batches, batchSize);
        rows.push({ store: 'sqlite', synchronous, eventIds, batchSize, ...measured });
      }
    }
  }
  console.table(rows);
}

/** One store's figures for the `stores` row: what each test of the contract does most, timed. */
async function storeFigures(store: EventStore, run: string): Promise<Record<string, number>> {
  const n = Number(process.env.BENCH_STORES_N ?? 2_000);
  const unitCount = Number(process.env.BENCH_STORES_UNITS ?? 4_000);
  const together = 32;
  const at = new Date().toISOString();
  const ms = Date.parse(at);
  const metadata = metadataOf('c-1', 'c-1', 'system', at);
  let started = performance.now();
  for (let i = 0; i < n; i++) {
    await store.append({
      streamId: `${run}-single-${i % 100}`,
      events: [{ id: randomUUID(), type: 'VariablesSet', data: { i, note: 'one event, one commit' }, metadata }],
      expectedRevision: 'any',
    });
  }
  const appendsPerSecond = n / ((performance.now() - started) / 1000);
  const units = Array.from({ length: unitCount }, (_, i) => [entityEventWrites(run, i, at, ms)]);
  started = performance.now();
  for (let u = 0; u < units.length; u += together) {
    await Promise.all(units.slice(u, u + together).map((unit) => store.unitOfWork((tx) => engineUnit(tx, unit))));
  }
  const unitsPerSecond = unitCount / ((performance.now() - started) / 1000);
  started = performance.now();
  let read = 0;
  for (let from = 0; ;) {
    const page = await store.readAll(from, 500);
    if (page.length === 0) break;
    read += page.length;
    from = page[page.length - 1]!.position;
  }
  const readAllEventsPerSecond = read / ((performance.now() - started) / 1000);
  return {
    appendsPerSecond: Math.round(appendsPerSecond),
    unitsPerSecondGrouped: Math.round(unitsPerSecond),
    eventsPerSecondGrouped: Math.round(unitsPerSecond * 4),
    readAllEventsPerSecond: Math.round(readAllEventsPerSecond),
    eventsRead: read,
  };
}

async function storeRows(): Promise<void> {
  const rows: Record<string, string | number>[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'lifeline-bench-'));
  const sqlite = SqliteEventStore.open(join(dir, 'events.db'));
  try {
    rows.push({ store: 'sqlite (synchronous NORMAL)', ...(await storeFigures(sqlite, 'sqlite')) });
  } finally {
    await sqlite.close();
    rmSync(dir, { recursive: true, force: true });
  }
  const url = testPostgresUrl();
  if (url === undefined) {
    console.log('stores: PostgreSQL skipped: no LIFELINE_POSTGRES_URL and no cluster at 127.0.0.1:54329');
  } else {
    const schema = uniqueTestSchema('bench');
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    const postgres = await PostgresEventStore.connect(url, { schema });
    try {
      // Whether a commit waits for its WAL flush decides the single-append figure: say which it was.
      const { rows: setting } = await admin.query<{ synchronous_commit: string }>('SHOW synchronous_commit');
      const label = `postgres (synchronous_commit ${setting[0]!.synchronous_commit}, localhost)`;
      rows.push({ store: label, ...(await storeFigures(postgres, 'postgres')) });
    } finally {
      await postgres.close();
      await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await admin.end();
    }
  }
  console.table(rows);
}

interface WritersFigure {
  units: number;
  /** Queries sent to PostgreSQL per unit (0 on SQLite): each one a round trip made while holding the log's lock. */
  roundTripsPerUnit: number;
  unitsPerSecond: number;
  eventsPerSecond: number;
  unitsPerCommit: number;
  cpuMicrosPerUnit: number;
}

/**
 * `inFlight` units kept in flight across `stores` (each its own writer; one store is one engine) for `seconds`:
 * a closed loop, so the rate is what the store sustains at that concurrency, not an offered load.
 */
async function writersFigure(
  stores: EventStore[],
  run: string,
  inFlight: number,
  perUnit: number,
  seconds: number,
): Promise<WritersFigure> {
  const at = new Date().toISOString();
  const ms = Date.parse(at);
  let next = 0;
  let units = 0;
  let commits = 0;
  let counting = false;
  const stops = stores.map((store) =>
    store.onCommitted(() => {
      if (counting) commits++;
    }),
  );
  let measuring = false;
  let until = performance.now() + 500;
  // One lane per unit in flight, lanes dealt round-robin to the stores.
  const lane = async (store: EventStore) => {
    while (performance.now() < until) {
      const writes = Array.from({ length: perUnit }, () => entityEventWrites(run, next++, at, ms));
      await store.unitOfWork((tx) => engineUnit(tx, writes));
      if (measuring) units++;
    }
  };
  // Warm-up (0.5 s, the JIT and the connections), then the measured window on fresh lanes.
  await Promise.all(Array.from({ length: inFlight }, (_, i) => lane(stores[i % stores.length]!)));
  measuring = true;
  counting = true;
  const trips = roundTripCounter();
  const cpu = process.cpuUsage();
  const started = performance.now();
  until = started + seconds * 1000;
  await Promise.all(Array.from({ length: inFlight }, (_, i) => lane(stores[i % stores.length]!)));
  const elapsed = (performance.now() - started) / 1000;
  const used = process.cpuUsage(cpu);
  counting = false;
  for (const stop of stops) stop();
  return {
    units,
    roundTripsPerUnit: trips() / units,
    unitsPerSecond: units / elapsed,
    eventsPerSecond: (units * perUnit * 4) / elapsed,
    unitsPerCommit: commits === 0 ? 0 : units / commits,
    cpuMicrosPerUnit: (used.user + used.system) / units,
  };
}

async function writersRows(): Promise<void> {
  const counts = (process.env.BENCH_WRITERS ?? '1,4,16,64').split(',').map(Number);
  const connections = (process.env.BENCH_WRITERS_CONNECTIONS ?? '2,4').split(',').filter(Boolean).map(Number);
  const seconds = Number(process.env.BENCH_WRITERS_SECONDS ?? 3);
  const perUnit = Number(process.env.BENCH_WRITERS_PER_UNIT ?? 1);
  const rows: Record<string, string | number>[] = [];
  const push = (store: string, engines: number, writers: number, f: WritersFigure) =>
    rows.push({
      store,
      engines,
      writers,
      entityEventsPerUnit: perUnit,
      units: f.units,
      unitsPerSecond: Math.round(f.unitsPerSecond),
      eventsPerSecond: Math.round(f.eventsPerSecond),
      unitsPerCommit: +f.unitsPerCommit.toFixed(1),
      roundTripsPerUnit: +f.roundTripsPerUnit.toFixed(2),
      cpuMicrosPerUnit: Math.round(f.cpuMicrosPerUnit),
    });
  const dir = mkdtempSync(join(tmpdir(), 'lifeline-bench-'));
  const sqlite = SqliteEventStore.open(join(dir, 'events.db'));
  try {
    for (const w of counts)
      push('sqlite (synchronous NORMAL)', 1, w, await writersFigure([sqlite], `sw${w}`, w, perUnit, seconds));
  } finally {
    await sqlite.close();
    rmSync(dir, { recursive: true, force: true });
  }
  const url = testPostgresUrl();
  if (url === undefined) {
    console.log('writers: PostgreSQL skipped: no LIFELINE_POSTGRES_URL and no cluster at 127.0.0.1:54329');
    console.table(rows);
    return;
  }
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  const { rows: setting } = await admin.query<{ synchronous_commit: string }>('SHOW synchronous_commit');
  // A round trip bounds the write rate (each unit holds the log's lock for its statements): measured beside it.
  const trips: number[] = [];
  for (let i = 0; i < 1_000; i++) {
    const started = performance.now();
    await admin.query('SELECT 1');
    trips.push(performance.now() - started);
  }
  trips.sort((a, b) => a - b);
  console.log(
    `writers: a round trip to PostgreSQL (SELECT 1, 1000 times): p50 ${trips[500]!.toFixed(3)} ms, p90 ${trips[900]!.toFixed(3)} ms`,
  );
  const schema = uniqueTestSchema('bench');
  try {
    const variants = [{ label: `postgres (synchronous_commit ${setting[0]!.synchronous_commit})`, url }];
    if (setting[0]!.synchronous_commit !== 'on')
      variants.push({ label: 'postgres (synchronous_commit on)', url: withSetting(url, 'synchronous_commit', 'on') });
    for (const variant of variants) {
      const store = await PostgresEventStore.connect(variant.url, { schema });
      try {
        for (const w of counts)
          push(variant.label, 1, w, await writersFigure([store], `p${rows.length}`, w, perUnit, seconds));
      } finally {
        await store.close();
      }
    }
    // Several engines on one log: each its own writer connection; the log head's row lock makes their commits take turns.
    const w = Math.max(...counts);
    for (const n of connections) {
      const stores = await Promise.all(Array.from({ length: n }, () => PostgresEventStore.connect(url, { schema })));
      try {
        push(variants[0]!.label, n, w, await writersFigure(stores, `c${rows.length}`, w, perUnit, seconds));
      } finally {
        await Promise.all(stores.map((s) => s.close()));
      }
    }
  } finally {
    await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await admin.end();
  }
  console.table(rows);
}

async function main(): Promise<void> {
  const rows = (process.env.BENCH_STORE_ROWS ?? 'throughput,engine,small,stores').split(',');
  if (rows.includes('writers')) await writersRows();
  if (rows.includes('stores')) await storeRows();
  if (rows.includes('throughput')) await throughputRows();
  if (rows.includes('engine')) await engineRows(500, 20_000);
  // Posts of 10 entity events, each its own commit (the fixed-rate latency regime).
  if (rows.includes('small')) await engineRows(10, 5_000);
}

void main();
