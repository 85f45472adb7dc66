import type Database from 'better-sqlite3';
import {
  decodeEvent,
  instancesOf,
  type DefinitionEntry,
  type EntityRef,
  type RecordState,
  type RecordTimer,
} from '@lifeline/process-domain';

/** What a record's row keeps when its data is read from the log: what the log does not say directly. */
interface PersistedRecord {
  entity: EntityRef;
  waits: RecordState['waits'];
  timers: RecordState['timers'];
}

/**
 * What the reactions decider remembers, in SQLite tables: one row per record (its state as JSON),
 * the definitions, which record each instance with a wait or a timer belongs to, an index of timers
 * by due time, and the position handled last. On the embedded default these tables live in the
 * event store's own file and move in the same transaction as the events; with EventStoreDB they
 * live in the engine's file, beside the checkpoint of the subscription that feeds them.
 */
export class ReactorState {
  private readonly s: ReturnType<typeof prepare>;
  private readonly latestEnvelope: Database.Statement<[string, number], { data: string }> | undefined;

  /**
   * `dataFromLog`: the tables live in the event store's own file, so a record's latest data is read
   * from its newest EntityEventRecorded rather than copied into a row of its own on every event: a
   * record without waits or timers then costs the reactor no write at all.
   */
  constructor(
    readonly db: Database.Database,
    readonly dataFromLog = false,
  ) {
    db.exec(SCHEMA);
    this.s = prepare(db);
    this.latestEnvelope = dataFromLog
      ? db.prepare(
          `SELECT data FROM events WHERE stream_id = ? AND type = 'EntityEventRecorded' AND position <= ?
            ORDER BY revision DESC LIMIT 1`,
        )
      : undefined;
  }

  /** The last global position reacted to (0: nothing yet). */
  checkpoint(): number {
    return this.s.getMeta.get('checkpoint')?.value ?? 0;
  }

  setCheckpoint(position: number): void {
    this.s.setMeta.run('checkpoint', position);
  }

  /**
   * The last position of a partition's events folded into this state (ownership by partition): this
   * process holds the records of the partitions it owns, each as of its own checkpoint.
   */
  partitionCheckpoint(partition: number): number {
    return this.s.getMeta.get(`partition:${partition}`)?.value ?? 0;
  }

  setPartitionCheckpoint(partition: number, position: number): void {
    this.s.setMeta.run(`partition:${partition}`, position);
  }

  /** How many partitions the partition checkpoints count (0: none kept yet). */
  partitionCount(): number {
    return this.s.getMeta.get('partition-count')?.value ?? 0;
  }

  /**
   * Owns the records `owns` says yes to, among `count` partitions. The records of partitions owned elsewhere
   * stay, as of their partition's checkpoint, but their timers leave the index, so none fires here; records
   * of a partition owned again (`regained`) get theirs back from their state, and are then folded on from
   * that checkpoint, not from the start of the log. Another partition count maps records to other partitions:
   * everything is forgotten then. Returns how many records' timers left or came back.
   */
  ownPartitions(owns: (recordKey: string) => boolean, regained: (recordKey: string) => boolean, count: number): number {
    if (count !== this.partitionCount()) {
      this.s.deleteAllRecords.run();
      this.s.deleteAllInstances.run();
      this.s.deleteAllTimers.run();
      for (const { name } of this.s.partitionMeta.all()) this.s.deleteMeta.run(name);
      this.s.setMeta.run('partition-count', count);
      return 0;
    }
    let moved = 0;
    for (const { timer_id: id, record_key: key } of this.s.allTimers.all()) {
      if (owns(key)) continue;
      this.s.deleteTimer.run(id);
      moved++;
    }
    for (const { record_key: key } of this.s.allRecordKeys.all()) {
      if (!regained(key)) continue;
      const state = this.record(key);
      if (!state) continue;
      for (const [id, timer] of Object.entries(state.timers)) {
        this.s.saveTimer.run(id, key, timer.dueAt, pausedOf(timer));
        moved++;
      }
    }
    return moved;
  }

  /** Bumped with every change of the definitions, so another process (or a rolled-back unit) is noticed. */
  definitionsRevision(): number {
    return this.s.getMeta.get('definitions')?.value ?? 0;
  }

  definitions(): DefinitionEntry[] {
    return this.s.allDefinitions.all().map((row) => JSON.parse(row.entry) as DefinitionEntry);
  }

  saveDefinition(entry: DefinitionEntry): number {
    this.s.saveDefinition.run(entry.key, JSON.stringify(entry));
    const revision = this.definitionsRevision() + 1;
    this.s.setMeta.run('definitions', revision);
    return revision;
  }

  /**
   * A record's state as of the log up to `upTo` (the data part, when read from the log). Without
   * `withData`, the data is not read from the log (left `{}`): for an event that replaces it.
   */
  record(key: string, upTo = Number.MAX_SAFE_INTEGER, withData = true): RecordState | undefined {
    const row = this.s.getRecord.get(key);
    if (!this.latestEnvelope) return row === undefined ? undefined : (JSON.parse(row.state) as RecordState);
    const persisted = row === undefined ? undefined : (JSON.parse(row.state) as PersistedRecord);
    const latest = withData ? this.latestEnvelope.get(key, upTo) : undefined;
    if (latest === undefined) {
      // Written out: `{ ...persisted, data }` (a field added after a spread) is a slow path of V8.
      if (persisted === undefined) return undefined;
      return { entity: persisted.entity, waits: persisted.waits, timers: persisted.timers, data: {} };
    }
    const event = decodeEvent({ type: 'EntityEventRecorded', data: JSON.parse(latest.data) as unknown });
    if (event.type !== 'EntityEventRecorded') return undefined;
    const { envelope } = event.data;
    return {
      entity: persisted?.entity ?? { type: envelope.entityType, id: envelope.entityId },
      data: envelope.data,
      kind: envelope.kind,
      lastEntityEventId: envelope.id,
      waits: persisted?.waits ?? {},
      timers: persisted?.timers ?? {},
    };
  }

  /** The record an instance with a wait or a timer belongs to. */
  recordOfInstance(instanceId: string): string | undefined {
    return this.s.getInstance.get(instanceId)?.record_key;
  }

  /** Stores a record's new state and keeps the instance and timer indexes in step with it. */
  saveRecord(key: string, before: RecordState | undefined, after: RecordState): void {
    // Most records never have a wait or a timer: with their data in the log there is nothing to write.
    if (this.latestEnvelope && persistedOf(before) === undefined && persistedOf(after) === undefined) return;
    if (this.latestEnvelope) {
      const had = persistedOf(before);
      const has = persistedOf(after);
      if (has === undefined) {
        if (had !== undefined) this.s.deleteRecord.run(key);
      } else if (had === undefined || JSON.stringify(had) !== JSON.stringify(has)) {
        this.s.saveRecord.run(key, JSON.stringify(has));
      }
    } else this.s.saveRecord.run(key, JSON.stringify(after));
    const had = instancesOf(before);
    const has = instancesOf(after);
    for (const id of had) if (!has.has(id)) this.s.deleteInstance.run(id);
    for (const id of has) if (!had.has(id)) this.s.saveInstance.run(id, key);
    const previous = before?.timers ?? {};
    for (const [id, timer] of Object.entries(after.timers)) {
      const old = previous[id];
      // A repeating timer (a boundary's `every`) keeps its id and moves its due time.
      if (old === undefined || old.dueAt !== timer.dueAt) this.s.saveTimer.run(id, key, timer.dueAt, pausedOf(timer));
      else if (pausedOf(old) !== pausedOf(timer)) this.s.pauseTimer.run(pausedOf(timer), id);
    }
    for (const id of Object.keys(previous)) if (!(id in after.timers)) this.s.deleteTimer.run(id);
  }

  /** Timers due at `now`, earliest first. */
  dueTimers(now: string, limit: number): { timerId: string; recordKey: string }[] {
    return this.s.dueTimers.all(now, limit).map((row) => ({ timerId: row.timer_id, recordKey: row.record_key }));
  }

  /** Fired timers wait here until the event that ends them is folded in (or fire again at `retryAt`). */
  deferTimer(timerId: string, retryAt: string): void {
    this.s.deferTimer.run(retryAt, timerId);
  }

  dropTimer(timerId: string): void {
    this.s.deleteTimer.run(timerId);
  }

  /** How many timers are due at `now` and not yet fired (a metric). */
  countDue(now: string): number {
    return this.s.countDue.get(now)?.count ?? 0;
  }

  /** When the next timer is due (for metrics and tests). */
  nextDue(): string | undefined {
    return this.s.nextDue.get()?.due_at ?? undefined;
  }

  counts(): { records: number; waitingInstances: number; timers: number } {
    return this.s.counts.get()!;
  }
}

/** The part of a record's state the log does not hold; undefined when there is nothing to keep. */
function persistedOf(state: RecordState | undefined): PersistedRecord | undefined {
  if (!state || (isEmpty(state.waits) && isEmpty(state.timers))) return undefined;
  return { entity: state.entity, waits: state.waits, timers: state.timers };
}

/** No own key, without listing the keys. */
function isEmpty(entries: object): boolean {
  for (const key in entries) if (Object.prototype.hasOwnProperty.call(entries, key)) return false;
  return true;
}

const pausedOf = (timer: RecordTimer): number =>
  (timer.kind === 'wait-timeout' || timer.kind === 'boundary') && timer.paused ? 1 : 0;

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS reactor_meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
  CREATE TABLE IF NOT EXISTS reactor_definitions (key TEXT PRIMARY KEY, entry TEXT NOT NULL) WITHOUT ROWID;
  CREATE TABLE IF NOT EXISTS reactor_records (record_key TEXT PRIMARY KEY, state TEXT NOT NULL) WITHOUT ROWID;
  CREATE TABLE IF NOT EXISTS reactor_instances (instance_id TEXT PRIMARY KEY, record_key TEXT NOT NULL) WITHOUT ROWID;
  CREATE TABLE IF NOT EXISTS reactor_timers (
    timer_id TEXT PRIMARY KEY, record_key TEXT NOT NULL, due_at TEXT NOT NULL, paused INTEGER NOT NULL
  ) WITHOUT ROWID;
  CREATE INDEX IF NOT EXISTS reactor_timers_due ON reactor_timers (paused, due_at);
`;

function prepare(db: Database.Database) {
  return {
    getMeta: db.prepare<[string], { value: number }>('SELECT value FROM reactor_meta WHERE name = ?'),
    setMeta: db.prepare<[string, number]>(
      'INSERT INTO reactor_meta (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value',
    ),
    deleteMeta: db.prepare<[string]>('DELETE FROM reactor_meta WHERE name = ?'),
    partitionMeta: db.prepare<[], { name: string }>(
      "SELECT name FROM reactor_meta WHERE name >= 'partition:' AND name < 'partition;'",
    ),
    deleteAllRecords: db.prepare('DELETE FROM reactor_records'),
    deleteAllInstances: db.prepare('DELETE FROM reactor_instances'),
    deleteAllTimers: db.prepare('DELETE FROM reactor_timers'),
    allRecordKeys: db.prepare<[], { record_key: string }>('SELECT record_key FROM reactor_records'),
    allInstances: db.prepare<[], { instance_id: string; record_key: string }>(
      'SELECT instance_id, record_key FROM reactor_instances',
    ),
    allTimers: db.prepare<[], { timer_id: string; record_key: string }>(
      'SELECT timer_id, record_key FROM reactor_timers',
    ),
    allDefinitions: db.prepare<[], { entry: string }>('SELECT entry FROM reactor_definitions ORDER BY key'),
    saveDefinition: db.prepare<[string, string]>(
      'INSERT INTO reactor_definitions (key, entry) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET entry = excluded.entry',
    ),
    getRecord: db.prepare<[string], { state: string }>('SELECT state FROM reactor_records WHERE record_key = ?'),
    deleteRecord: db.prepare<[string]>('DELETE FROM reactor_records WHERE record_key = ?'),
    saveRecord: db.prepare<[string, string]>(
      'INSERT INTO reactor_records (record_key, state) VALUES (?, ?) ON CONFLICT (record_key) DO UPDATE SET state = excluded.state',
    ),
    getInstance: db.prepare<[string], { record_key: string }>(
      'SELECT record_key FROM reactor_instances WHERE instance_id = ?',
    ),
    saveInstance: db.prepare<[string, string]>(
      'INSERT OR REPLACE INTO reactor_instances (instance_id, record_key) VALUES (?, ?)',
    ),
    deleteInstance: db.prepare<[string]>('DELETE FROM reactor_instances WHERE instance_id = ?'),
    saveTimer: db.prepare<[string, string, string, number]>(
      'INSERT OR REPLACE INTO reactor_timers (timer_id, record_key, due_at, paused) VALUES (?, ?, ?, ?)',
    ),
    pauseTimer: db.prepare<[number, string]>('UPDATE reactor_timers SET paused = ? WHERE timer_id = ?'),
    deferTimer: db.prepare<[string, string]>('UPDATE reactor_timers SET due_at = ? WHERE timer_id = ?'),
    deleteTimer: db.prepare<[string]>('DELETE FROM reactor_timers WHERE timer_id = ?'),
    dueTimers: db.prepare<[string, number], { timer_id: string; record_key: string }>(
      'SELECT timer_id, record_key FROM reactor_timers WHERE paused = 0 AND due_at <= ? ORDER BY due_at, timer_id LIMIT ?',
    ),
    countDue: db.prepare<[string], { count: number }>(
      'SELECT COUNT(*) AS count FROM reactor_timers WHERE paused = 0 AND due_at <= ?',
    ),
    nextDue: db.prepare<[], { due_at: string | null }>(
      'SELECT MIN(due_at) AS due_at FROM reactor_timers WHERE paused = 0',
    ),
    counts: db.prepare<[], { records: number; waitingInstances: number; timers: number }>(
      `SELECT (SELECT COUNT(*) FROM reactor_records) AS records,
              (SELECT COUNT(*) FROM reactor_instances) AS waitingInstances,
              (SELECT COUNT(*) FROM reactor_timers) AS timers`,
    ),
  };
}
