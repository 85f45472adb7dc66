import { EventEmitter } from 'node:events';
import Database from 'better-sqlite3';
import {
  EventIdConflict,
  withDataText,
  type AppendRequest,
  type AppendResult,
  type EventStore,
  type NewEvent,
  type ReadStreamOptions,
  type StoreTx,
  type StoredEvent,
  type SubscribeOptions,
  type Subscription,
} from '../event-store';
import { canonicalEventText, canonicalJson, eventHash } from '../hash-chain';
import type { LogLink, StoredLogChain } from '../log-chain';
import { EventStoreClosed, OwnMetadataText, checkExpectedRevision, ownMetadata } from '../store-rules';
import { SqliteGlobalChain, globalChainMigration } from './global-chain';
import { GroupCommit, settleCommit, type QueuedUnit } from '../group-commit';
import { startPolling, type PollingSubscription } from '../polling-subscription';
import { FALLBACK_AUTOCHECKPOINT_PAGES, WalCheckpointer } from './wal-checkpointer';

export interface SqliteEventStoreOptions {
  /** NORMAL (default) survives a process crash; FULL also survives a power loss. */
  synchronous?: 'NORMAL' | 'FULL';
  /** How often subscriptions look for appends made by another process on the same file. */
  pollIntervalMs?: number;
  /** How long a writer waits for another process's write lock before failing. */
  busyTimeoutMs?: number;
  /** WAL checkpoints on a worker thread instead of the committing connection (default true). */
  backgroundCheckpoints?: boolean;
  /** A reader beside the writer (an as-of worker thread): no schema change, appends fail, the file must exist. */
  readonly?: boolean;
  /**
   * How long units may keep adding to one shared transaction (group commit) before it commits and the event loop
   * gets a turn (default 10 ms). A unit is never split: one that runs longer commits alone.
   */
  commitBudgetMs?: number;
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
  /** The stream hash in the last event's metadata. */
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
  // The hash of a stream's last event beside its revision: an append reads it without parsing metadata.
  'ALTER TABLE streams ADD COLUMN hash TEXT;',
  // A stream's head is its last event, found by the (stream_id, revision) index: a row per stream beside it
  // cost an upsert per append into a B-tree of random keys (about a third of the pages a small commit writes).
  // The table stays, empty, because the events' foreign key names it (connections that enforce keys need it).
  'DELETE FROM streams;',
];

const appendedSignal = 'appended';

/** The page size of a new store file. */
export const PAGE_SIZE = 8_192;

/** How many recently appended events are kept for subscriptions (the live tail): the objects appended. */
const RECENT_LIMIT = 4_096;

/** How many units at most share one commit (bounds how long the write lock is held). */
const MAX_UNITS_PER_COMMIT = 256;

/**
 * How long the units of one commit may run before it commits. The units and the read models' application of
 * what they committed run without a turn of the event loop in between: a backlog of posts (sixteen cold ones at
 * start-up, or those a pause let pile up) shared one transaction and held every other request, /health included,
 * for the whole of it.
 */
const DEFAULT_COMMIT_BUDGET_MS = 10;

type Connection = 'reader' | 'writer';

interface ReadStatements {
  findEventById: Database.Statement<[string], { stream_id: string; position: number }>;
  findStreamHead: Database.Statement<[string], StreamHeadRow>;
  selectStreamForwards: Database.Statement<[string, number, number], EventRow>;
  selectStreamBackwards: Database.Statement<[string, number, number], EventRow>;
  selectAll: Database.Statement<[number, number], EventRow>;
  selectHead: Database.Statement<[], { head: number | null }>;
  prefixStatements: Map<number, Database.Statement<unknown[], EventRow>>;
}

function prepareReads(db: Database.Database): ReadStatements {
  return {
    findEventById: db.prepare('SELECT stream_id, position FROM events WHERE id = ?'),
    findStreamHead: db.prepare(
      `SELECT revision, json_extract(metadata, '$.hash') AS hash FROM events
        WHERE stream_id = ? ORDER BY revision DESC LIMIT 1`,
    ),
    selectStreamForwards: db.prepare(
      'SELECT * FROM events WHERE stream_id = ? AND revision >= ? ORDER BY revision ASC LIMIT ?',
    ),
    selectStreamBackwards: db.prepare(
      'SELECT * FROM events WHERE stream_id = ? AND revision <= ? ORDER BY revision DESC LIMIT ?',
    ),
    selectAll: db.prepare('SELECT * FROM events WHERE position > ? ORDER BY position ASC LIMIT ?'),
    selectHead: db.prepare('SELECT MAX(position) AS head FROM events'),
    prefixStatements: new Map(),
  };
}

/** One unit's view of the open transaction: what it appended, and what runs once it committed. */
class SqliteUnit implements StoreTx {
  readonly appended: StoredEvent[] = [];
  readonly commitListeners: (() => void)[] = [];

  constructor(private readonly store: SqliteEventStore) {}

  async append(request: AppendRequest): Promise<AppendResult> {
    return this.store.appendWithin(this, request);
  }

  async readStream(streamId: string, options?: ReadStreamOptions): Promise<StoredEvent[]> {
    return this.store.readStreamWith('writer', streamId, options);
  }

  async readAll(fromPosition: number, maxCount: number, prefixes?: readonly string[]): Promise<StoredEvent[]> {
    return this.store.readAllWith('writer', fromPosition, maxCount, prefixes);
  }

  async headPosition(): Promise<number> {
    return this.store.headWith('writer');
  }

  onCommit(listener: () => void): void {
    this.commitListeners.push(listener);
  }

  async attempt<T>(work: () => Promise<T>): Promise<T> {
    return this.store.attemptWithin(this, work);
  }
}

/**
 * The embedded event store: one SQLite file in WAL mode, global position = row id.
 * Writes go through units of work: the units submitted in one event-loop turn share one
 * transaction (group commit), each in its own savepoint. Reads outside a unit use a second
 * connection, so they only ever see committed events.
 */
export class SqliteEventStore implements EventStore, StoredLogChain {
  readonly atomicUnits = true;
  private readonly appended = new EventEmitter();
  private readonly subscriptions = new Set<PollingSubscription>();
  private readonly committedListeners = new Set<(events: readonly StoredEvent[]) => void>();
  private closed = false;
  /**
   * The events this process appended last, in position order, shared by every subscription (they
   * read the same tail). Only committed events enter it.
   */
  private readonly recent: StoredEvent[] = [];
  private readonly units = new GroupCommit((batch) => this.commitUnits(batch), MAX_UNITS_PER_COMMIT);

  private readonly reads: ReadStatements;
  private readonly writes: ReadStatements;
  private readonly insertEvent: Database.Statement<
    [number, string, string, number, string, string, string, number, string]
  >;
  /** Positions and links of the global chain (global-chain.ts), handed out inside the write transaction. */
  private readonly chain: SqliteGlobalChain;

  private constructor(
    private readonly db: Database.Database,
    private readonly reader: Database.Database,
    private readonly pollIntervalMs: number,
    private readonly checkpointer: WalCheckpointer | undefined,
  ) {
    this.appended.setMaxListeners(0);
    this.writes = prepareReads(db);
    this.reads = prepareReads(reader);
    this.insertEvent = db.prepare(
      `INSERT INTO events (position, id, stream_id, revision, type, data, metadata, chain_prev, chain_hash)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.chain = new SqliteGlobalChain(db);
  }

  static open(file: string, options: SqliteEventStoreOptions = {}): SqliteEventStore {
    const busyTimeout = Math.max(0, Math.trunc(options.busyTimeoutMs ?? 5000));
    const db = new Database(file, options.readonly ? { readonly: true, fileMustExist: true } : {});
    try {
      if (options.readonly) {
        // One connection: it only reads, so units of work have nothing to keep apart from reads.
        db.pragma(`busy_timeout = ${busyTimeout}`);
        return new SqliteEventStore(db, db, options.pollIntervalMs ?? 100, undefined);
      }
      // Only a new, empty file takes it (an existing one keeps its page size). Rows of about 1 KB appended in
      // batches cost about a quarter less CPU in 16 KiB pages than in 4 KiB ones (fewer splits, fewer pages), but
      // a small commit writes a whole page per random index key (~30): 8 KiB costs the same in batches, less there.
      db.pragma(`page_size = ${PAGE_SIZE}`);
      db.pragma('journal_mode = WAL');
      db.pragma(`synchronous = ${options.synchronous === 'FULL' ? 'FULL' : 'NORMAL'}`);
      db.pragma(`busy_timeout = ${busyTimeout}`);
      // Every append writes its stream's row itself, in the same transaction: enforcing the foreign key
      // (a look-up per event and per new stream, a deferred count per commit) checks what never fails.
      db.pragma('foreign_keys = OFF');
      // Checkpoints run on a worker (wal-checkpointer.ts); without one, less often writes each hot page once per checkpoint.
      db.pragma(
        `wal_autocheckpoint = ${options.backgroundCheckpoints === false ? 10_000 : FALLBACK_AUTOCHECKPOINT_PAGES}`,
      );
      // ... and a larger cache keeps those pages in memory between commits.
      db.pragma('cache_size = -65536');
      // Savepoint journals in memory: past 64 KiB SQLite spills one to a temp file it makes and deletes per commit.
      db.pragma('temp_store = MEMORY');
      migrate(db);
    } catch (error) {
      db.close();
      throw error;
    }
    const reader = new Database(file);
    reader.pragma(`busy_timeout = ${busyTimeout}`);
    reader.pragma('cache_size = -32768');
    const checkpointer = options.backgroundCheckpoints === false ? undefined : WalCheckpointer.start(file);
    const store = new SqliteEventStore(db, reader, options.pollIntervalMs ?? 100, checkpointer);
    store.commitBudgetMs = options.commitBudgetMs ?? DEFAULT_COMMIT_BUDGET_MS;
    return store;
  }

  private commitBudgetMs = DEFAULT_COMMIT_BUDGET_MS;

  /**
   * The writer connection, for state that must commit in the same transaction as the events (the
   * engine's reactions). Use it only inside a unit of work.
   */
  get sidecar(): Database.Database {
    return this.db;
  }

  readonly sidecarHoldsEvents = true;

  unitOfWork<T>(work: (tx: StoreTx) => Promise<T>): Promise<T> {
    this.assertOpen();
    return this.units.submit(work);
  }

  onCommitted(listener: (events: readonly StoredEvent[]) => void): () => void {
    this.committedListeners.add(listener);
    return () => this.committedListeners.delete(listener);
  }

  async append(request: AppendRequest): Promise<AppendResult> {
    return this.unitOfWork(async (tx) => tx.append(request));
  }

  async appendMany(requests: AppendRequest[]): Promise<AppendResult[]> {
    this.assertOpen();
    if (requests.length === 0) return [];
    return this.unitOfWork(async (tx) => {
      const results: AppendResult[] = [];
      for (const request of requests) results.push(await tx.append(request));
      return results;
    });
  }

  async readStream(streamId: string, options: ReadStreamOptions = {}): Promise<StoredEvent[]> {
    this.assertOpen();
    return this.readStreamWith('reader', streamId, options);
  }

  async readAll(fromPosition: number, maxCount: number, prefixes?: readonly string[]): Promise<StoredEvent[]> {
    this.assertOpen();
    return this.readAllWith('reader', fromPosition, maxCount, prefixes);
  }

  async headPosition(): Promise<number> {
    this.assertOpen();
    return this.headWith('reader');
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
    return startPolling(
      this.subscriptions,
      {
        head: () => this.headWith('reader'),
        read: (from, max) => this.readAllWith('reader', from, max, options.prefixes),
        onAppended: (listener) => {
          this.appended.on(appendedSignal, listener);
          return () => this.appended.off(appendedSignal, listener);
        },
      },
      handler,
      options,
      { pollIntervalMs: this.pollIntervalMs },
    );
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([...this.subscriptions].map((s) => s.stop()));
    await this.units.drained;
    this.reader.close();
    this.db.close();
    await this.checkpointer?.stop();
  }

  // ---- units of work ----

  /**
   * One transaction for the batch; each unit in a savepoint of its own, except a unit that starts
   * the transaction: if it throws, the whole transaction rolls back (it holds nothing else) and the
   * next unit begins another. A savepoint copies every page the unit touches to the sub-journal.
   */
  private async commitUnits(batch: QueuedUnit[]): Promise<void> {
    if (!this.db.open) {
      for (const unit of batch) unit.reject(new EventStoreClosed());
      return;
    }
    const outcomes: { unit: QueuedUnit; view: SqliteUnit; ok: boolean; value?: unknown; error?: unknown }[] = [];
    /** Whether the open transaction holds a unit yet; undefined while no transaction is open. */
    let holdsUnit: boolean | undefined;
    let began = 0;
    for (let i = 0; i < batch.length; i++) {
      const unit = batch[i]!;
      if (holdsUnit && performance.now() - began >= this.commitBudgetMs) {
        // Over budget: commit what ran, and the rest goes first into the next transaction, after a turn of the loop.
        this.units.putBack(batch.slice(i));
        break;
      }
      if (holdsUnit === undefined) {
        began = performance.now();
        try {
          this.beginUnits();
        } catch (error) {
          for (const rest of batch.slice(i))
            outcomes.push({ unit: rest, view: new SqliteUnit(this), ok: false, error });
          break;
        }
        holdsUnit = false;
      }
      const view = new SqliteUnit(this);
      const savepoint = holdsUnit;
      if (savepoint) this.control('SAVEPOINT unit');
      const mark = this.chain.mark();
      try {
        const value = await unit.work(view);
        if (savepoint) this.control('RELEASE unit');
        outcomes.push({ unit, view, ok: true, value });
        holdsUnit = true;
      } catch (error) {
        if (savepoint) {
          // The unit's rows go back to before it, and so do the chain's tail and the AUTOINCREMENT counter.
          this.control('ROLLBACK TO unit');
          this.control('RELEASE unit');
          this.chain.restore(mark);
        } else {
          if (this.db.inTransaction) this.db.exec('ROLLBACK');
          this.chain.rolledBack();
          holdsUnit = undefined;
        }
        outcomes.push({ unit, view, ok: false, error });
      }
    }
    if (holdsUnit !== undefined) {
      try {
        this.control('COMMIT');
        this.chain.committed();
      } catch (error) {
        if (this.db.inTransaction) this.db.exec('ROLLBACK');
        this.chain.rolledBack();
        for (const { unit } of outcomes) unit.reject(error);
        return;
      }
    }
    settleCommit(
      outcomes,
      this.committedListeners,
      () => this.appended.emit(appendedSignal),
      (event) => this.remember(event),
    );
  }

  /** BEGIN IMMEDIATE takes the write lock up front, so the revisions checked are the ones written after. */
  private beginUnits(): void {
    this.control('BEGIN IMMEDIATE');
    this.chain.beginTransaction();
  }

  private savepoints = 0;

  /** A nested savepoint inside a unit: undone, with the unit's record of it, if `work` throws. */
  async attemptWithin<T>(unit: SqliteUnit, work: () => Promise<T>): Promise<T> {
    const name = `attempt${++this.savepoints}`;
    const appended = unit.appended.length;
    const listeners = unit.commitListeners.length;
    this.control(`SAVEPOINT ${name}`);
    const mark = this.chain.mark();
    try {
      const result = await work();
      this.control(`RELEASE ${name}`);
      return result;
    } catch (error) {
      if (this.db.inTransaction) {
        this.control(`ROLLBACK TO ${name}`);
        this.control(`RELEASE ${name}`);
        this.chain.restore(mark);
      }
      unit.appended.length = appended;
      unit.commitListeners.length = listeners;
      throw error;
    } finally {
      this.savepoints--;
    }
  }

  private readonly controlStatements = new Map<string, Database.Statement>();

  /** Transaction control, prepared once per text: a unit runs two savepoints per reaction. */
  private control(sql: string): void {
    let statement = this.controlStatements.get(sql);
    if (statement === undefined) {
      statement = this.db.prepare(sql);
      this.controlStatements.set(sql, statement);
    }
    statement.run();
  }

  /** An append inside a unit's transaction (the unit's view calls it). */
  appendWithin(unit: SqliteUnit, request: AppendRequest): AppendResult {
    this.assertOpen();
    const { streamId, events, expectedRevision } = request;
    const head = this.writes.findStreamHead.get(streamId);
    const current = head?.revision ?? -1;
    // A first event already stored is a retry (same stream) or a conflict. Without a stream row, an
    // append the expected revision admits needs no look-up: its insert meets the unique id instead.
    if (events.length > 0 && (head !== undefined || !admitsNewStream(expectedRevision))) {
      const existing = this.writes.findEventById.get(events[0]!.id);
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
    let prevHash = head === undefined ? '' : (head.hash ?? '');
    let position = 0;
    const metadataText = new OwnMetadataText();
    // Every event's text first: one that cannot be stored as JSON (a bigint, a cycle) fails the append before any row.
    const texts = events.map((event) => ({
      data: canonicalJson(event.data),
      metadata: metadataText.of(event.id, event.metadata),
    }));
    for (let i = 0; i < events.length; i++) {
      const written = this.writeEvent(unit, events[i]!, streamId, current + 1 + i, prevHash, texts[i]!);
      prevHash = written.hash;
      position = written.position;
    }
    return { duplicate: false, nextRevision, position };
  }

  private writeEvent(
    unit: SqliteUnit,
    event: NewEvent,
    streamId: string,
    revision: number,
    prevHash: string,
    text: { data: string; metadata: string },
  ): { hash: string; position: number } {
    const { data, metadata } = text;
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
    } catch (error) {
      if (isUniqueViolation(error, 'events.id')) throw new EventIdConflict(event.id, streamId);
      throw error;
    }
    this.chain.advance(link);
    // The appended objects are the stored event: nothing parses back what was just written.
    const owned = ownMetadata(event.id, event.metadata);
    owned.hash = hash;
    owned.prevHash = prevHash;
    const stored: StoredEvent = {
      id: event.id,
      type: event.type,
      data: event.data,
      metadata: owned as unknown as StoredEvent['metadata'],
      streamId,
      revision,
      position,
    };
    withDataText(stored, data);
    unit.appended.push(stored);
    return { hash, position };
  }

  /** Position of the batch's last event already stored (the batch was appended before). */
  private lastStoredPosition(events: NewEvent[], firstPosition: number): number {
    let position = firstPosition;
    for (let i = 1; i < events.length; i++) {
      const found = this.writes.findEventById.get(events[i]!.id);
      if (found !== undefined && found.position > position) position = found.position;
    }
    return position;
  }

  private streamLastPosition(streamId: string, revision: number): number {
    if (revision < 0) return 0;
    return this.writes.selectStreamForwards.get(streamId, revision, 1)?.position ?? 0;
  }

  // ---- reads ----

  private remember(event: StoredEvent): void {
    const last = this.recent[this.recent.length - 1];
    // Another process appended in between: the tail is no longer contiguous, start it again.
    if (last !== undefined && event.position !== last.position + 1) this.recent.length = 0;
    this.recent.push(event);
    if (this.recent.length > RECENT_LIMIT * 2) this.recent.splice(0, this.recent.length - RECENT_LIMIT);
  }

  /** Serves a read of the global log from the recent tail when it holds everything up to the head. */
  private readRecent(
    connection: Connection,
    fromPosition: number,
    maxCount: number,
    prefixes?: readonly string[],
  ): StoredEvent[] | undefined {
    const first = this.recent[0];
    const last = this.recent[this.recent.length - 1];
    if (first === undefined || last === undefined) return undefined;
    if (fromPosition + 1 < first.position || fromPosition > last.position) return undefined;
    if (this.headWith(connection) !== last.position) return undefined;
    const out: StoredEvent[] = [];
    for (let i = fromPosition + 1 - first.position; i < this.recent.length && out.length < maxCount; i++) {
      const event = this.recent[i]!;
      if (prefixes !== undefined && !prefixes.some((p) => event.streamId.startsWith(p))) continue;
      out.push(event);
    }
    return out;
  }

  readStreamWith(connection: Connection, streamId: string, options: ReadStreamOptions = {}): StoredEvent[] {
    this.assertOpen();
    const limit = options.maxCount ?? -1;
    if (limit === 0) return [];
    const statements = this.statementsOf(connection);
    const rows =
      options.direction === 'backwards'
        ? statements.selectStreamBackwards.all(streamId, options.fromRevision ?? Number.MAX_SAFE_INTEGER, limit)
        : statements.selectStreamForwards.all(streamId, options.fromRevision ?? 0, limit);
    return rows.map(toStoredEvent);
  }

  readAllWith(
    connection: Connection,
    fromPosition: number,
    maxCount: number,
    prefixes?: readonly string[],
  ): StoredEvent[] {
    this.assertOpen();
    if (maxCount <= 0) return [];
    const recent = this.readRecent(connection, fromPosition, maxCount, prefixes);
    if (recent !== undefined) return recent;
    const statements = this.statementsOf(connection);
    if (prefixes === undefined) return statements.selectAll.all(fromPosition, maxCount).map(toStoredEvent);
    if (prefixes.length === 0) return [];
    // instr(...) = 1 is "starts with" without LIKE/GLOB wildcards to escape.
    let statement = statements.prefixStatements.get(prefixes.length);
    if (statement === undefined) {
      const filter = prefixes.map(() => 'instr(stream_id, ?) = 1').join(' OR ');
      statement = (connection === 'reader' ? this.reader : this.db).prepare(
        `SELECT * FROM events WHERE position > ? AND (${filter}) ORDER BY position ASC LIMIT ?`,
      );
      statements.prefixStatements.set(prefixes.length, statement);
    }
    return statement.all(fromPosition, ...prefixes, maxCount).map(toStoredEvent);
  }

  headWith(connection: Connection): number {
    this.assertOpen();
    return this.statementsOf(connection).selectHead.get()?.head ?? 0;
  }

  private statementsOf(connection: Connection): ReadStatements {
    return connection === 'reader' ? this.reads : this.writes;
  }

  private assertOpen(): void {
    if (this.closed && !this.units.draining) throw new EventStoreClosed();
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
  return withDataText(
    {
      id: row.id,
      type: row.type,
      data: JSON.parse(row.data) as unknown,
      metadata: JSON.parse(row.metadata) as StoredEvent['metadata'],
      streamId: row.stream_id,
      revision: row.revision,
      position: row.position,
    },
    row.data,
  );
}

/** Whether an append with this expected revision may create its stream. */
function admitsNewStream(expected: AppendRequest['expectedRevision']): boolean {
  return expected === 'any' || expected === 'no-stream' || expected === -1;
}

function isUniqueViolation(error: unknown, column: string): boolean {
  // Duck-typed: the driver's errors may come from another realm (jest loads the native module once per worker).
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
  return code === 'SQLITE_CONSTRAINT_UNIQUE' && typeof message === 'string' && message.includes(column);
}
