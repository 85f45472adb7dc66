import Database from 'better-sqlite3';
import { rmSync } from 'node:fs';
import {
  type EventStore,
  type StoredEvent,
  type Subscription,
  FALLBACK_AUTOCHECKPOINT_PAGES,
  WalCheckpointer,
} from '@lifeline/event-store';
import type { LifelineEvent } from '@lifeline/process-domain';
import { asLifelineEvent } from './events';

export type Sql = Database.Database;

const readTransactions = new WeakMap<Sql, (read: () => unknown) => unknown>();

/**
 * Runs several queries in one read transaction: they see one snapshot (another process may commit between two
 * statements otherwise), and the file's read locks are taken and dropped once instead of once per statement.
 */
export function readTogether<T>(db: Sql, read: () => T): T {
  let run = readTransactions.get(db);
  if (run === undefined) {
    run = db.transaction((r: () => unknown) => r());
    readTransactions.set(db, run);
  }
  return run(read) as T;
}

/** The page size of a new read-model file. */
export const READ_MODEL_PAGE_SIZE = 8_192;

/** A read model over the global log: its tables, and how one event changes its rows. */
export interface Projection {
  name: string;
  /** CREATE TABLE / CREATE INDEX statements, each `IF NOT EXISTS` so opening twice is harmless. */
  schema: string[];
  /**
   * Indexes only queries use (never `apply`): a rebuild creates them after the load, which is
   * much faster than keeping them up to date row by row.
   */
  queryIndexes?: string[];
  /**
   * Runs inside the Projector's batch transaction; must not start its own. `decoded` is `asLifelineEvent(event)`,
   * decoded once per event for every projection (read it from `event` when called without it).
   */
  apply(db: Sql, event: StoredEvent, decoded?: LifelineEvent): void;
  /** Prepares the statements `apply` uses, when the file opens: the first events applied must not pay for them. */
  prepare?(db: Sql): unknown;
  /** Before a batch's first event, inside its transaction: drops what an earlier (maybe rolled back) batch kept. */
  startBatch?(db: Sql): void;
  /** After a batch's last event, inside its transaction: writes what `apply` gathered over the batch. */
  endBatch?(db: Sql): void;
  /** After a batch was rolled back (a projection or the commit failed): forgets what it kept from that batch. */
  rolledBack?(db: Sql): void;
  /**
   * Bumped when the schema or the meaning of the rows changes: a file built by another version has
   * this projection's `tables` dropped and the projection rebuilt from the log (the others stay).
   */
  version?: number;
  /** The tables this projection owns (dropped, with their indexes, when its version changes). */
  tables?: string[];
}

export interface ReadModelDbOptions {
  /**
   * Rebuild mode: no journal, no fsync. A crash leaves a broken file, which is fine because a
   * rebuild writes a fresh file that nobody reads until it is complete.
   */
  bulk?: boolean;
  /** WAL checkpoints on a worker thread, off the event loop (the served file). */
  backgroundCheckpoints?: boolean;
}

/** One read-model SQLite file. */
export class ReadModelDb {
  private constructor(
    readonly sql: Sql,
    readonly file: string,
    private readonly checkpointer?: WalCheckpointer,
  ) {}

  static open(file: string, options: ReadModelDbOptions = {}): ReadModelDb {
    const sql = new Database(file);
    // Only a new, empty file takes it (an existing one keeps its own). A small commit writes a whole page per
    // table and index it touches (~21 for one entity event): 8 KiB costs the same as 16 KiB in batches, less there.
    sql.pragma(`page_size = ${READ_MODEL_PAGE_SIZE}`);
    if (options.bulk) {
      sql.pragma('journal_mode = OFF');
      sql.pragma('synchronous = OFF');
      sql.pragma('locking_mode = EXCLUSIVE');
      sql.pragma('cache_size = -131072');
      sql.pragma('temp_store = MEMORY');
    } else {
      sql.pragma('journal_mode = WAL');
      // WAL + NORMAL stays consistent on power loss; a lost tail is re-projected from the checkpoint.
      sql.pragma('synchronous = NORMAL');
      sql.pragma('busy_timeout = 5000');
      sql.pragma('cache_size = -32768');
      // Fewer, larger WAL checkpoints: each one syncs, and projections write many index pages.
      sql.pragma(`wal_autocheckpoint = ${options.backgroundCheckpoints ? FALLBACK_AUTOCHECKPOINT_PAGES : 10_000}`);
    }
    sql.exec(CHECKPOINT_SCHEMA);
    addVersionColumn(sql);
    const checkpointer =
      options.backgroundCheckpoints && !options.bulk && file !== ':memory:' ? WalCheckpointer.start(file) : undefined;
    return new ReadModelDb(sql, file, checkpointer);
  }

  /** Leaves bulk mode so the file can be served (WAL, durable commits). */
  finishBulk(): void {
    this.sql.pragma('locking_mode = NORMAL');
    this.sql.pragma('journal_mode = WAL');
    this.sql.pragma('synchronous = NORMAL');
  }

  close(): void {
    if (this.sql.open) this.sql.close();
    void this.checkpointer?.stop();
  }

  /** Closes and waits for the checkpointer's last checkpoint. */
  async closeAndWait(): Promise<void> {
    if (this.sql.open) this.sql.close();
    await this.checkpointer?.stop();
  }

  /** Deletes a read-model file with its WAL side files. */
  static remove(file: string): void {
    for (const suffix of ['', '-wal', '-shm', '-journal']) rmSync(file + suffix, { force: true });
  }
}

const CHECKPOINT_SCHEMA = `CREATE TABLE IF NOT EXISTS projections_checkpoint (
  name TEXT PRIMARY KEY,
  position INTEGER NOT NULL,
  version INTEGER NOT NULL DEFAULT 1
) WITHOUT ROWID`;

/** Files written before projections had versions lack the column (their projections are version 1). */
function addVersionColumn(sql: Sql): void {
  const columns = sql.prepare('PRAGMA table_info(projections_checkpoint)').all() as { name: string }[];
  if (!columns.some((c) => c.name === 'version')) {
    sql.exec('ALTER TABLE projections_checkpoint ADD COLUMN version INTEGER NOT NULL DEFAULT 1');
  }
}

/** How many instances a projection's cache keeps across batches; past it the cache starts again from empty. */
export const CACHED_INSTANCES = 20_000;

/**
 * Call at the start of a batch: a projection's cache of recent instances (written through, dropped on a
 * rollback) stays bounded by starting again from empty once it holds more than CACHED_INSTANCES.
 */
export function boundCache(cache: { readonly size: number; clear(): void }): void {
  if (cache.size > CACHED_INSTANCES) cache.clear();
}

/**
 * Prepared statements built once per connection: projections are plain objects shared by every
 * file, and preparing a statement per event would cost more than running it.
 */
export function preparedFor<T>(build: (db: Sql) => T): (db: Sql) => T {
  const cache = new WeakMap<Sql, T>();
  return (db) => {
    let statements = cache.get(db);
    if (!statements) {
      statements = build(db);
      cache.set(db, statements);
    }
    return statements;
  };
}

/**
 * Runs projections over batches of the global log. One batch is one transaction holding every
 * projection's rows and its checkpoint, so each event is applied exactly once per projection.
 */
export class Projector {
  private positions: Map<string, number>;
  private readonly listeners = new Set<(position: number) => void>();
  private readonly applyInTransaction: (
    events: StoredEvent[],
    positions: Map<string, number>,
    onlyFollowing: boolean,
  ) => void;

  constructor(
    readonly db: ReadModelDb,
    readonly projections: Projection[],
    options: { deferQueryIndexes?: boolean } = {},
  ) {
    const sql = db.sql;
    const stored = sql.prepare('SELECT name, position, version FROM projections_checkpoint').all() as {
      name: string;
      position: number;
      version: number;
    }[];
    const byName = new Map(stored.map((row) => [row.name, row]));
    // A projection whose rows a different version wrote is rebuilt from the log, alone.
    sql.transaction(() => {
      for (const projection of projections) {
        const row = byName.get(projection.name);
        if (row === undefined || row.version === (projection.version ?? 1)) continue;
        for (const table of projection.tables ?? []) sql.exec(`DROP TABLE IF EXISTS ${table}`);
        sql.prepare('DELETE FROM projections_checkpoint WHERE name = ?').run(projection.name);
        byName.delete(projection.name);
      }
    })();
    for (const projection of projections) for (const statement of projection.schema) sql.exec(statement);
    if (!options.deferQueryIndexes) this.createQueryIndexes();
    this.positions = new Map(projections.map((p) => [p.name, byName.get(p.name)?.position ?? 0]));
    const versions = new Map(projections.map((p) => [p.name, p.version ?? 1]));
    // Every checkpoint a batch moved is saved by one statement (one per count of moved checkpoints).
    const saveCheckpoints: Database.Statement[] = [];
    const saveStatement = (count: number): Database.Statement =>
      (saveCheckpoints[count] ??= sql.prepare(
        'INSERT INTO projections_checkpoint (name, position, version) VALUES ' +
          Array<string>(count).fill('(?, ?, ?)').join(', ') +
          ' ON CONFLICT (name) DO UPDATE SET position = excluded.position, version = excluded.version',
      ));
    // Prepared now, not on the first batch: every projection, and the checkpoint save of a batch that moves them all.
    for (const projection of projections) projection.prepare?.(sql);
    saveStatement(projections.length);
    this.applyInTransaction = sql.transaction(
      (events: StoredEvent[], positions: Map<string, number>, onlyFollowing: boolean) => {
        const decoded = events.map(asLifelineEvent);
        const moved: (string | number)[] = [];
        const first = events[0]!.position;
        for (const projection of projections) {
          const from = positions.get(projection.name) ?? 0;
          // Events just committed skip a projection still behind them (being rebuilt from the log): its subscription
          // brings them in order, and applying them now would leave a gap in it.
          if (onlyFollowing && from < first - 1) continue;
          let last = from;
          projection.startBatch?.(sql);
          for (let i = 0; i < events.length; i++) {
            const event = events[i]!;
            // A redelivered event (after a crash or an overlapping batch) is skipped, not re-applied.
            if (event.position <= last) continue;
            projection.apply(sql, event, decoded[i]);
            last = event.position;
          }
          projection.endBatch?.(sql);
          if (last !== from) {
            moved.push(projection.name, last, versions.get(projection.name) ?? 1);
            positions.set(projection.name, last);
          }
        }
        if (moved.length > 0) saveStatement(moved.length / 3).run(moved);
      },
    );
  }

  createQueryIndexes(): void {
    for (const projection of this.projections) {
      for (const statement of projection.queryIndexes ?? []) this.db.sql.exec(statement);
    }
  }

  /**
   * Applies a batch to every projection (events a projection already has are skipped). `onlyFollowing`: only to
   * the projections whose checkpoint the batch follows directly (events just committed, while one is rebuilt).
   */
  applyBatch(events: StoredEvent[], options: { onlyFollowing?: boolean } = {}): void {
    if (events.length === 0) return;
    const next = new Map(this.positions);
    try {
      this.applyInTransaction(events, next, options.onlyFollowing === true);
    } catch (error) {
      for (const projection of this.projections) projection.rolledBack?.(this.db.sql);
      throw error;
    }
    // Only a committed batch moves the in-memory checkpoint.
    this.positions = next;
    const position = this.checkpoint();
    for (const listener of this.listeners) listener(position);
  }

  /** The position one projection has reached (0 for a name it does not run). */
  positionOf(name: string): number {
    return this.positions.get(name) ?? 0;
  }

  /** Whether a batch starting at `position` follows some projection's checkpoint directly (it can apply it now). */
  follows(position: number): boolean {
    for (const at of this.positions.values()) if (at === position - 1) return true;
    return false;
  }

  /** The position every projection has reached (the smallest of their checkpoints). */
  checkpoint(): number {
    let min = Number.POSITIVE_INFINITY;
    for (const position of this.positions.values()) min = Math.min(min, position);
    return Number.isFinite(min) ? min : 0;
  }

  /** Called after each committed batch with the new checkpoint; returns the unsubscribe. */
  onCheckpoint(listener: (position: number) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}

export interface RunProjectorOptions {
  batchSize?: number;
  onError?: (error: unknown) => void;
}

/** Subscribes the projector to the store from its own checkpoint. */
export async function runProjector(
  store: EventStore,
  projector: Projector,
  options: RunProjectorOptions = {},
): Promise<Subscription> {
  return store.subscribe(
    async (events) => {
      // Events applied inline since (the write path's own commits) are skipped without a transaction.
      const checkpoint = projector.checkpoint();
      if (events[events.length - 1]!.position <= checkpoint) return;
      projector.applyBatch(events[0]!.position > checkpoint ? events : events.filter((e) => e.position > checkpoint));
    },
    { fromPosition: projector.checkpoint(), batchSize: options.batchSize ?? 1000, onError: options.onError },
  );
}
