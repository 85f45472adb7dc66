import type Database from 'better-sqlite3';
import { instancesOf, type DefinitionEntry, type RecordState, type RecordTimer } from '@lifeline/process-domain';

/**
 * What the reactions decider remembers, in SQLite tables: one row per record (its state as JSON),
 * the definitions, which record each instance with a wait or a timer belongs to, an index of timers
 * by due time, and the position handled last. On the embedded default these tables live in the
 * event store's own file and move in the same transaction as the events; with EventStoreDB they
 * live in the engine's file, beside the checkpoint of the subscription that feeds them.
 */
export class ReactorState {
  private readonly s: ReturnType<typeof prepare>;

  constructor(readonly db: Database.Database) {
    db.exec(SCHEMA);
    this.s = prepare(db);
  }

  /** The last global position reacted to (0: nothing yet). */
  checkpoint(): number {
    return this.s.getMeta.get('checkpoint')?.value ?? 0;
  }

  setCheckpoint(position: number): void {
    this.s.setMeta.run('checkpoint', position);
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

  record(key: string): RecordState | undefined {
    const row = this.s.getRecord.get(key);
    return row === undefined ? undefined : (JSON.parse(row.state) as RecordState);
  }

  /** The record an instance with a wait or a timer belongs to. */
  recordOfInstance(instanceId: string): string | undefined {
    return this.s.getInstance.get(instanceId)?.record_key;
  }

  /** Stores a record's new state and keeps the instance and timer indexes in step with it. */
  saveRecord(key: string, before: RecordState | undefined, after: RecordState): void {
    this.s.saveRecord.run(key, JSON.stringify(after));
    const had = instancesOf(before);
    const has = instancesOf(after);
    for (const id of had) if (!has.has(id)) this.s.deleteInstance.run(id);
    for (const id of has) if (!had.has(id)) this.s.saveInstance.run(id, key);
    const previous = before?.timers ?? {};
    for (const [id, timer] of Object.entries(after.timers)) {
      const old = previous[id];
      if (old === undefined) this.s.saveTimer.run(id, key, timer.dueAt, pausedOf(timer));
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

  /** When the next timer is due (for metrics and tests). */
  nextDue(): string | undefined {
    return this.s.nextDue.get()?.due_at ?? undefined;
  }

  counts(): { records: number; waitingInstances: number; timers: number } {
    return this.s.counts.get()!;
  }
}

const pausedOf = (timer: RecordTimer): number => (timer.kind === 'wait-timeout' && timer.paused ? 1 : 0);

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
    allDefinitions: db.prepare<[], { entry: string }>('SELECT entry FROM reactor_definitions ORDER BY key'),
    saveDefinition: db.prepare<[string, string]>(
      'INSERT INTO reactor_definitions (key, entry) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET entry = excluded.entry',
    ),
    getRecord: db.prepare<[string], { state: string }>('SELECT state FROM reactor_records WHERE record_key = ?'),
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
