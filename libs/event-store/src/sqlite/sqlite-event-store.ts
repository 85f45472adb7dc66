import { EventEmitter } from 'node:events';
import Database from 'better-sqlite3';
import {
  EventIdConflict,
  type AppendRequest,
  type AppendResult,
  type EventStore,
  type NewEvent,
  type ReadStreamOptions,
  type StoredEvent,
  type SubscribeOptions,
  type Subscription,
} from '../event-store';
import { canonicalEventText, canonicalJson, eventHash } from '../hash-chain';
import type { LogLink, StoredLogChain } from '../log-chain';
import { EventStoreClosed, checkExpectedRevision, ownMetadata } from '../store-rules';
import { SqliteGlobalChain, globalChainMigration } from './global-chain';
import { PollingSubscription } from './polling-subscription';

export interface SqliteEventStoreOptions {
  /** NORMAL (default) survives a process crash; FULL also survives a power loss. */
  synchronous?: 'NORMAL' | 'FULL';
  /** How often subscriptions look for appends made by another process on the same file. */
  pollIntervalMs?: number;
  /** How long a writer waits for another process's write lock before failing. */
  busyTimeoutMs?: number;
}

interface EventRow {
  position: number;
  id: string;
  stream_id: string;
  revision: number;
  type: string;
  data: string;
  metadata: string;
}

interface StreamHeadRow {
  revision: number;
  hash: string | null;
}

/** Each entry migrates the schema from version (index) to version (index + 1). */
const migrations: readonly string[] = [
  `CREATE TABLE streams (
     stream_id TEXT PRIMARY KEY,
     revision INTEGER NOT NULL
   ) WITHOUT ROWID;
   CREATE TABLE events (
     position INTEGER PRIMARY KEY AUTOINCREMENT,
     id TEXT NOT NULL UNIQUE,
     stream_id TEXT NOT NULL REFERENCES streams(stream_id),
     revision INTEGER NOT NULL,
     type TEXT NOT NULL,
     data TEXT NOT NULL,
     metadata TEXT NOT NULL,
     UNIQUE (stream_id, revision)
   );`,
  globalChainMigration,
];

const appendedSignal = 'appended';

/** How many recently appended events are kept parsed for subscriptions (the live tail). */
const RECENT_LIMIT = 4_096;

interface RecentEvent {
  row: EventRow;
  parsed?: StoredEvent;
}

/**
 * The embedded event store: one SQLite file in WAL mode, global position = row id, every event
 * linked into the global chain (global-chain.ts). better-sqlite3 is synchronous, so every method
 * does its work before its promise settles.
 */
export class SqliteEventStore implements EventStore, StoredLogChain {
  private readonly appended = new EventEmitter();
  private readonly subscriptions = new Set<PollingSubscription>();
  private readonly prefixStatements = new Map<number, Database.Statement<unknown[], EventRow>>();
  private closed = false;
  /**
   * The events this process appended last, in position order, parsed once on first read and
   * shared by every subscription (they read the same tail). Only committed events enter it.
   */
  private readonly recent: RecentEvent[] = [];
  private pendingRecent: RecentEvent[] = [];

  private readonly findEventById: Database.Statement<[string], { stream_id: string; position: number }>;
  private readonly findStreamHead: Database.Statement<[string], StreamHeadRow>;
  private readonly upsertStream: Database.Statement<[string, number]>;
  private readonly insertEvent: Database.Statement<
    [number, string, string, number, string, string, string, number, string]
  >;
  private readonly chain: SqliteGlobalChain;
  private readonly selectStreamForwards: Database.Statement<[string, number, number], EventRow>;
  private readonly selectStreamBackwards: Database.Statement<[string, number, number], EventRow>;
  private readonly selectAll: Database.Statement<[number, number], EventRow>;
  private readonly selectHead: Database.Statement<[], { head: number | null }>;
  private readonly appendOneTransaction: (request: AppendRequest) => AppendResult;
  private readonly appendManyTransaction: (requests: AppendRequest[]) => AppendResult[];

  private constructor(
    private readonly db: Database.Database,
    private readonly pollIntervalMs: number,
  ) {
    this.appended.setMaxListeners(0);
    this.findEventById = db.prepare('SELECT stream_id, position FROM events WHERE id = ?');
    this.findStreamHead = db.prepare(
      `SELECT s.revision AS revision, json_extract(e.metadata, '$.hash') AS hash
         FROM streams s LEFT JOIN events e ON e.stream_id = s.stream_id AND e.revision = s.revision
        WHERE s.stream_id = ?`,
    );
    this.upsertStream = db.prepare(
      `INSERT INTO streams (stream_id, revision) VALUES (?, ?)
       ON CONFLICT (stream_id) DO UPDATE SET revision = excluded.revision`,
    );
    this.insertEvent = db.prepare(
      `INSERT INTO events (position, id, stream_id, revision, type, data, metadata, chain_prev, chain_hash)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.chain = new SqliteGlobalChain(db);
    this.selectStreamForwards = db.prepare(
      'SELECT * FROM events WHERE stream_id = ? AND revision >= ? ORDER BY revision ASC LIMIT ?',
    );
    this.selectStreamBackwards = db.prepare(
      'SELECT * FROM events WHERE stream_id = ? AND revision <= ? ORDER BY revision DESC LIMIT ?',
    );
    this.selectAll = db.prepare('SELECT * FROM events WHERE position > ? ORDER BY position ASC LIMIT ?');
    this.selectHead = db.prepare('SELECT MAX(position) AS head FROM events');
    const appendOne = db.transaction((request: AppendRequest) => this.appendInTransaction(request));
    const appendMany = db.transaction((requests: AppendRequest[]) => requests.map((r) => this.appendInTransaction(r)));
    // BEGIN IMMEDIATE takes the write lock up front, so the revision we check is the one we write after.
    this.appendOneTransaction = (request) => appendOne.immediate(request);
    this.appendManyTransaction = (requests) => appendMany.immediate(requests);
  }

  static open(file: string, options: SqliteEventStoreOptions = {}): SqliteEventStore {
    const db = new Database(file);
    try {
      db.pragma('journal_mode = WAL');
      db.pragma(`synchronous = ${options.synchronous === 'FULL' ? 'FULL' : 'NORMAL'}`);
      db.pragma(`busy_timeout = ${Math.max(0, Math.trunc(options.busyTimeoutMs ?? 5000))}`);
      db.pragma('foreign_keys = ON');
      // Random event ids scatter index writes; checkpointing less often writes each hot page once per checkpoint.
      db.pragma('wal_autocheckpoint = 10000');
      migrate(db);
      return new SqliteEventStore(db, options.pollIntervalMs ?? 100);
    } catch (error) {
      db.close();
      throw error;
    }
  }

  async append(request: AppendRequest): Promise<AppendResult> {
    this.assertOpen();
    const result = this.committed(() => this.appendOneTransaction(request));
    if (!result.duplicate) this.appended.emit(appendedSignal);
    return result;
  }

  async appendMany(requests: AppendRequest[]): Promise<AppendResult[]> {
    this.assertOpen();
    if (requests.length === 0) return [];
    const results = this.committed(() => this.appendManyTransaction(requests));
    if (results.some((r) => !r.duplicate)) this.appended.emit(appendedSignal);
    return results;
  }

  /** Runs one append transaction; its events join the recent tail only once it committed. */
  private committed<T>(transaction: () => T): T {
    this.pendingRecent = [];
    this.chain.beginTransaction();
    try {
      const result = transaction();
      this.chain.committed();
      for (const event of this.pendingRecent) this.remember(event);
      return result;
    } catch (error) {
      this.chain.rolledBack();
      throw error;
    } finally {
      this.pendingRecent = [];
    }
  }

  private remember(event: RecentEvent): void {
    const last = this.recent[this.recent.length - 1];
    // Another process appended in between: the tail is no longer contiguous, start it again.
    if (last !== undefined && event.row.position !== last.row.position + 1) this.recent.length = 0;
    this.recent.push(event);
    if (this.recent.length > RECENT_LIMIT * 2) this.recent.splice(0, this.recent.length - RECENT_LIMIT);
  }

  /** Serves a read of the global log from the recent tail when it holds everything up to the head. */
  private readRecent(fromPosition: number, maxCount: number, prefixes?: readonly string[]): StoredEvent[] | undefined {
    const first = this.recent[0];
    const last = this.recent[this.recent.length - 1];
    if (first === undefined || last === undefined) return undefined;
    if (fromPosition + 1 < first.row.position || fromPosition > last.row.position) return undefined;
    if (this.headPositionNow() !== last.row.position) return undefined;
    const out: StoredEvent[] = [];
    for (let i = fromPosition + 1 - first.row.position; i < this.recent.length && out.length < maxCount; i++) {
      const event = this.recent[i]!;
      if (prefixes !== undefined && !prefixes.some((p) => event.row.stream_id.startsWith(p))) continue;
      event.parsed ??= toStoredEvent(event.row);
      out.push(event.parsed);
    }
    return out;
  }

  async readStream(streamId: string, options: ReadStreamOptions = {}): Promise<StoredEvent[]> {
    this.assertOpen();
    const limit = options.maxCount ?? -1;
    if (limit === 0) return [];
    const rows =
      options.direction === 'backwards'
        ? this.selectStreamBackwards.all(streamId, options.fromRevision ?? Number.MAX_SAFE_INTEGER, limit)
        : this.selectStreamForwards.all(streamId, options.fromRevision ?? 0, limit);
    return rows.map(toStoredEvent);
  }

  async readAll(fromPosition: number, maxCount: number, prefixes?: readonly string[]): Promise<StoredEvent[]> {
    this.assertOpen();
    return this.readAllNow(fromPosition, maxCount, prefixes);
  }

  async headPosition(): Promise<number> {
    this.assertOpen();
    return this.headPositionNow();
  }

  async readLogLinks(afterPosition: number, upToPosition: number): Promise<LogLink[]> {
    this.assertOpen();
    return this.chain.links(afterPosition, upToPosition);
  }

  async logHead(): Promise<{ position: number; hash: string }> {
    this.assertOpen();
    return this.chain.head();
  }

  async countEvents(afterPosition: number, upToPosition: number): Promise<number> {
    this.assertOpen();
    return this.chain.count(afterPosition, upToPosition);
  }

  subscribe(
    handler: (events: StoredEvent[]) => Promise<void>,
    options: SubscribeOptions & { onError?: (error: unknown) => void } = {},
  ): Subscription {
    this.assertOpen();
    const subscription = new PollingSubscription(
      {
        head: () => this.headPositionNow(),
        read: (from, max) => this.readAllNow(from, max, options.prefixes),
        onAppended: (listener) => {
          this.appended.on(appendedSignal, listener);
          return () => this.appended.off(appendedSignal, listener);
        },
        onStopped: (s) => this.subscriptions.delete(s),
      },
      handler,
      {
        fromPosition: options.fromPosition ?? 0,
        batchSize: options.batchSize ?? 500,
        pollIntervalMs: this.pollIntervalMs,
        onError: options.onError,
      },
    );
    this.subscriptions.add(subscription);
    subscription.start();
    return subscription;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([...this.subscriptions].map((s) => s.stop()));
    this.db.close();
  }

  private appendInTransaction(request: AppendRequest): AppendResult {
    const { streamId, events, expectedRevision } = request;
    const head = this.findStreamHead.get(streamId);
    const current = head?.revision ?? -1;
    if (events.length > 0) {
      const existing = this.findEventById.get(events[0]!.id);
      if (existing !== undefined) {
        if (existing.stream_id !== streamId) throw new EventIdConflict(events[0]!.id, streamId);
        return { duplicate: true, nextRevision: current, position: this.lastStoredPosition(events, existing.position) };
      }
    }
    checkExpectedRevision(streamId, expectedRevision, current);
    if (events.length === 0) {
      return { duplicate: false, nextRevision: current, position: this.streamLastPosition(streamId, current) };
    }
    const nextRevision = current + events.length;
    // The stream row goes first: events reference it.
    this.upsertStream.run(streamId, nextRevision);
    let prevHash = head?.hash ?? '';
    let position = 0;
    for (let i = 0; i < events.length; i++) {
      const event = events[i]!;
      const revision = current + 1 + i;
      const written = this.writeEvent(event, streamId, revision, prevHash);
      prevHash = written.hash;
      position = written.position;
    }
    return { duplicate: false, nextRevision, position };
  }

  private writeEvent(
    event: NewEvent,
    streamId: string,
    revision: number,
    prevHash: string,
  ): { hash: string; position: number } {
    const data = canonicalJson(event.data);
    const metadata = canonicalJson(ownMetadata(event.id, event.metadata));
    const hash = eventHash(prevHash, canonicalEventText(event.id, streamId, revision, event.type, data, metadata));
    // Metadata always holds messageId, so it is a non-empty object: splice the chain fields in at the end.
    const storedMetadata = `${metadata.slice(0, -1)},"hash":"${hash}","prevHash":"${prevHash}"}`;
    const link = this.chain.next(hash);
    const position = link.position;
    try {
      this.insertEvent.run(
        position,
        event.id,
        streamId,
        revision,
        event.type,
        data,
        storedMetadata,
        link.prevPosition,
        link.hash,
      );
      this.pendingRecent.push({
        row: {
          position,
          id: event.id,
          stream_id: streamId,
          revision,
          type: event.type,
          data,
          metadata: storedMetadata,
        },
      });
      return { hash, position };
    } catch (error) {
      if (isUniqueViolation(error, 'events.id')) throw new EventIdConflict(event.id, streamId);
      throw error;
    }
  }

  /** Position of the batch's last event already stored (the batch was appended before). */
  private lastStoredPosition(events: NewEvent[], firstPosition: number): number {
    let position = firstPosition;
    for (let i = 1; i < events.length; i++) {
      const found = this.findEventById.get(events[i]!.id);
      if (found !== undefined && found.position > position) position = found.position;
    }
    return position;
  }

  private streamLastPosition(streamId: string, revision: number): number {
    if (revision < 0) return 0;
    return this.selectStreamForwards.get(streamId, revision, 1)?.position ?? 0;
  }

  private readAllNow(fromPosition: number, maxCount: number, prefixes?: readonly string[]): StoredEvent[] {
    if (maxCount <= 0) return [];
    const recent = this.readRecent(fromPosition, maxCount, prefixes);
    if (recent !== undefined) return recent;
    if (prefixes === undefined) return this.selectAll.all(fromPosition, maxCount).map(toStoredEvent);
    if (prefixes.length === 0) return [];
    // instr(...) = 1 is "starts with" without LIKE/GLOB wildcards to escape.
    let statement = this.prefixStatements.get(prefixes.length);
    if (statement === undefined) {
      const filter = prefixes.map(() => 'instr(stream_id, ?) = 1').join(' OR ');
      statement = this.db.prepare(
        `SELECT * FROM events WHERE position > ? AND (${filter}) ORDER BY position ASC LIMIT ?`,
      );
      this.prefixStatements.set(prefixes.length, statement);
    }
    return statement.all(fromPosition, ...prefixes, maxCount).map(toStoredEvent);
  }

  private headPositionNow(): number {
    return this.selectHead.get()?.head ?? 0;
  }

  private assertOpen(): void {
    if (this.closed) throw new EventStoreClosed();
  }
}

function migrate(db: Database.Database): void {
  db.transaction(() => {
    db.exec('CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)');
    const row = db.prepare('SELECT version FROM schema_version').get() as { version: number } | undefined;
    const version = row?.version ?? 0;
    if (version > migrations.length) {
      throw new Error(`Event store schema version ${version} is newer than this code (${migrations.length})`);
    }
    for (let v = version; v < migrations.length; v++) db.exec(migrations[v]!);
    if (row === undefined) db.prepare('INSERT INTO schema_version (version) VALUES (?)').run(migrations.length);
    else db.prepare('UPDATE schema_version SET version = ?').run(migrations.length);
  }).immediate();
}

function toStoredEvent(row: EventRow): StoredEvent {
  return {
    id: row.id,
    type: row.type,
    data: JSON.parse(row.data) as unknown,
    metadata: JSON.parse(row.metadata) as StoredEvent['metadata'],
    streamId: row.stream_id,
    revision: row.revision,
    position: row.position,
  };
}

function isUniqueViolation(error: unknown, column: string): boolean {
  // Duck-typed: the driver's errors may come from another realm (jest loads the native module once per worker).
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
  return code === 'SQLITE_CONSTRAINT_UNIQUE' && typeof message === 'string' && message.includes(column);
}
