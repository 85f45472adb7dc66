import Database from 'better-sqlite3';

/** Where a relay remembers the last global position it has published (0: nothing yet). */
export interface CheckpointStore {
  get(name: string): Promise<number>;
  set(name: string, position: number): Promise<void>;
}

export class InMemoryCheckpointStore implements CheckpointStore {
  private readonly positions = new Map<string, number>();

  async get(name: string): Promise<number> {
    return this.positions.get(name) ?? 0;
  }

  async set(name: string, position: number): Promise<void> {
    this.positions.set(name, position);
  }
}

/** Checkpoints in a SQLite file, so a relay resumes where it was after a process restart. */
export class SqliteCheckpointStore implements CheckpointStore {
  private readonly select: Database.Statement<[string], { position: number }>;
  private readonly upsert: Database.Statement<[string, number]>;

  private constructor(private readonly db: Database.Database) {
    db.pragma('journal_mode = WAL');
    db.exec('CREATE TABLE IF NOT EXISTS checkpoints (name TEXT PRIMARY KEY, position INTEGER NOT NULL) WITHOUT ROWID');
    this.select = db.prepare('SELECT position FROM checkpoints WHERE name = ?');
    this.upsert = db.prepare(
      'INSERT INTO checkpoints (name, position) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET position = excluded.position',
    );
  }

  static open(file: string): SqliteCheckpointStore {
    return new SqliteCheckpointStore(new Database(file));
  }

  async get(name: string): Promise<number> {
    return this.select.get(name)?.position ?? 0;
  }

  async set(name: string, position: number): Promise<void> {
    this.upsert.run(name, position);
  }

  close(): void {
    this.db.close();
  }
}
