import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * The engine's own state: the process manager's view of definitions, open waits and timers, and
 * checkpoints. Rebuildable from the log; kept beside its checkpoint so both move in one transaction.
 */
export class EngineDb {
  readonly sql: Database.Database;

  private constructor(file: string) {
    if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
    this.sql = new Database(file);
    this.sql.pragma('journal_mode = WAL');
    this.sql.pragma('synchronous = NORMAL');
    this.sql.pragma('busy_timeout = 5000');
    this.sql.pragma('wal_autocheckpoint = 10000');
    this.sql.exec(`
      CREATE TABLE IF NOT EXISTS checkpoints (name TEXT PRIMARY KEY, position INTEGER NOT NULL);
      CREATE TABLE IF NOT EXISTS pm_definitions (
        key TEXT PRIMARY KEY, version INTEGER NOT NULL, definition TEXT NOT NULL,
        enabled INTEGER NOT NULL, execution_order INTEGER NOT NULL, related_entity TEXT NOT NULL);
      CREATE INDEX IF NOT EXISTS pm_definitions_entity ON pm_definitions(related_entity);
      CREATE TABLE IF NOT EXISTS pm_waits (
        instance_id TEXT PRIMARY KEY, activity_id TEXT NOT NULL, visit INTEGER NOT NULL,
        entity_type TEXT NOT NULL, entity_id TEXT NOT NULL);
      CREATE INDEX IF NOT EXISTS pm_waits_entity ON pm_waits(entity_type, entity_id);
      CREATE TABLE IF NOT EXISTS pm_timers (
        timer_id TEXT PRIMARY KEY, kind TEXT NOT NULL, due_at TEXT NOT NULL, instance_id TEXT NOT NULL,
        payload TEXT NOT NULL, paused INTEGER NOT NULL DEFAULT 0, fired_at TEXT);
      CREATE INDEX IF NOT EXISTS pm_timers_due ON pm_timers(paused, due_at);
      CREATE INDEX IF NOT EXISTS pm_timers_instance ON pm_timers(instance_id);
    `);
  }

  static open(file: string): EngineDb {
    return new EngineDb(file);
  }

  checkpoint(name: string): number {
    const row = this.sql.prepare('SELECT position FROM checkpoints WHERE name = ?').get(name) as
      { position: number } | undefined;
    return row?.position ?? 0;
  }

  setCheckpoint(name: string, position: number): void {
    this.sql
      .prepare(
        'INSERT INTO checkpoints(name, position) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET position = excluded.position',
      )
      .run(name, position);
  }

  close(): void {
    this.sql.close();
  }
}

/** Checkpoints for other durable reactions (the outbox relay), in the engine's database. */
export class EngineCheckpointStore {
  constructor(private readonly db: EngineDb) {}
  async get(name: string): Promise<number> {
    return this.db.checkpoint(name);
  }
  async set(name: string, position: number): Promise<void> {
    this.db.setCheckpoint(name, position);
  }
}
