import { EventEmitter } from 'node:events';
import pg from 'pg';
import {
  EventIdConflict,
  WrongExpectedRevision,
  dataTextOf,
  withDataText,
  type AppendRequest,
  type AppendResult,
  type EventStore,
  type PartitionFilter,
  type ReadStreamOptions,
  type StoreTx,
  type StoredEvent,
  type SubscribeOptions,
  type Subscription,
} from '../event-store';
import { canonicalEventText, canonicalJson, eventHash } from '../hash-chain';
import { EventStoreClosed, OwnMetadataText, checkExpectedRevision, ownMetadata } from '../store-rules';
import { GroupCommit, settleCommit, type QueuedUnit } from '../group-commit';
import { startPolling, type PollingSubscription } from '../polling-subscription';
import { isConnectionLost } from './connection-lost';
import { PostgresPartitionLeases } from './partition-leases';
import { partitionHash, type PartitionedStore } from '../partitions';

export interface PostgresEventStoreOptions {
  /** The schema that holds the store's tables (created when missing; default `public`). */
  schema?: string;
  /** How often subscriptions look for appends when no notification came (another process, a lost LISTEN). */
  pollIntervalMs?: number;
  /** Connections for reads outside units of work and for subscriptions (default 4). */
  readConnections?: number;
}

interface EventRow {
  position: string;
  id: string;
  stream_id: string;
  revision: number;
  type: string;
  data: string;
  metadata: string;
}

/**
 * How many units at most share one transaction: bounds how long the log's write lock is held, and the
 * subtransactions (a savepoint per unit and per attempt) past PostgreSQL's cache of 64 per backend, beyond
 * which every other session's snapshots look subtransactions up on disk while the transaction is open.
 */
const MAX_UNITS_PER_COMMIT = 32;

/** A unique violation (SQLSTATE 23505). */
const UNIQUE_VIOLATION = '23505';

const appendedSignal = 'appended';

/** How many stream heads are remembered for guesses (cleared when full: a guess is only ever a guess). */
const HEAD_CACHE_LIMIT = 50_000;

const NO_HEAD = { revision: -1, hash: '' };

/** How long the writer's transaction may wait on this process between two statements before the server ends it. */
const IDLE_IN_TRANSACTION_MS = 60_000;

/** What the look-up before an append gives: the stream's head, the ids already stored, whether it inserted. */
interface LookupRow {
  kind: 'head' | 'id' | 'inserted';
  revision: number | null;
  hash: string | null;
  id: string | null;
  stream_id: string | null;
  position: string | null;
}

interface AppendRows {
  position: number[];
  revision: number[];
  metadata: string[];
  hash: string[];
  /** Each event's record hash (partitions.ts), null for an event of no record. */
  partition: (number | null)[];
  /** The stored events, as appended (not read back). */
  stored: StoredEvent[];
  nextRevision: number;
}

/**
 * Each entry migrates the schema from version (index) to version (index + 1). `%s` is the store's schema.
 * Data and metadata are the canonical JSON text, kept verbatim (jsonb would reorder keys and re-print
 * numbers, and the hash chain is over the text). `log_head` is the log's last position: its row is the
 * write lock every unit's transaction takes first (docs/decisions/0012-postgresql-event-store.md).
 */
const migrations: readonly string[] = [
  `CREATE TABLE %s.events (
     position bigint PRIMARY KEY,
     id text NOT NULL UNIQUE,
     stream_id text NOT NULL,
     revision integer NOT NULL,
     type text NOT NULL,
     data text NOT NULL,
     metadata text NOT NULL,
     hash text NOT NULL,
     UNIQUE (stream_id, revision)
   );
   CREATE TABLE %s.log_head (
     only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row),
     position bigint NOT NULL
   );
   INSERT INTO %s.log_head (position) VALUES (0);`,
  // Ownership by partition (docs/decisions/0013-ownership-by-partition.md): each event's record hash, so an
  // engine reads only its partitions' events; the leases and the per-partition checkpoints of the engines.
  `ALTER TABLE %s.events ADD COLUMN partition_hash integer;
   CREATE INDEX events_without_partition ON %s.events (position) WHERE partition_hash IS NULL;
   CREATE TABLE %s.partition_leases (
     partition integer PRIMARY KEY,
     epoch bigint NOT NULL,
     owner text,
     taken_at timestamptz NOT NULL DEFAULT now()
   );
   CREATE TABLE %s.partition_checkpoints (
     name text NOT NULL,
     partition_count integer NOT NULL,
     partition integer NOT NULL,
     position bigint NOT NULL,
     PRIMARY KEY (name, partition_count, partition)
   );`,
];

/** One unit's view of the open transaction: what it appended, and what runs once it committed. */
class PostgresUnit implements StoreTx {
  readonly keepsPartitions = true;
  readonly appended: StoredEvent[] = [];
  readonly commitListeners: (() => void)[] = [];

  constructor(private readonly store: PostgresEventStore) {}

  append(request: AppendRequest): Promise<AppendResult> {
    return this.store.appendWithin(this, request);
  }

  readStream(streamId: string, options?: ReadStreamOptions): Promise<StoredEvent[]> {
    return this.store.readStreamWith(this.store.writerQuery, streamId, options);
  }

  readAll(fromPosition: number, maxCount: number, prefixes?: readonly string[]): Promise<StoredEvent[]> {
    return this.store.readAllWith(this.store.writerQuery, fromPosition, maxCount, prefixes);
  }

  async headPosition(): Promise<number> {
    return this.store.transactionHead();
  }

  onCommit(listener: () => void): void {
    this.commitListeners.push(listener);
  }

  attempt<T>(work: () => Promise<T>): Promise<T> {
    return this.store.attemptWithin(this, work);
  }
}

type Query = <R extends pg.QueryResultRow>(text: string, values?: unknown[]) => Promise<pg.QueryResult<R>>;

/**
 * The event store on PostgreSQL, for several engine processes on several hosts. Like SQLite's, writes go
 * through units of work, and the units submitted in one event-loop turn share one transaction (group
 * commit), each in its own savepoint. Every transaction first locks the one row of `log_head`: positions
 * are handed out under that lock and the lock is held until commit, so positions are gapless and commit in
 * position order, and a reader never sees position p+1 while p is still in flight (decision 0012).
 */
export class PostgresEventStore implements EventStore, PartitionedStore {
  readonly atomicUnits = true;
  readonly partitionLeases: PostgresPartitionLeases;
  private readonly appended = new EventEmitter();
  private readonly subscriptions = new Set<PollingSubscription>();
  private readonly committedListeners = new Set<(events: readonly StoredEvent[]) => void>();
  private closed = false;
  private readonly units = new GroupCommit((batch) => this.commitUnits(batch), MAX_UNITS_PER_COMMIT);
  /** The log's last position as this transaction sees it (own appends included); undefined outside one. */
  private txHead: number | undefined;
  /** Appends of one transaction run one at a time: each reads a stream head, then writes after it. */
  private appendChain: Promise<unknown> = Promise.resolve();
  private savepoints = 0;
  private writer: pg.Client | undefined;
  private writerLost = false;
  private listener: pg.Client | undefined;
  private readonly t: { events: string; logHead: string };
  private readonly sql: { lookup: string; lookupAndInsert: string; insert: string };
  /** The last head this process wrote per stream: what the next append to it most likely finds. */
  private readonly heads = new Map<string, { revision: number; hash: string }>();
  private readonly channel: string;

  private constructor(
    private readonly connectionString: string,
    private readonly schema: string,
    private readonly pool: pg.Pool,
    private readonly pollIntervalMs: number,
  ) {
    this.appended.setMaxListeners(0);
    this.t = { events: `${quoteIdent(schema)}.events`, logHead: `${quoteIdent(schema)}.log_head` };
    this.channel = `lifeline_events_${schema}`.slice(0, 63);
    this.partitionLeases = new PostgresPartitionLeases(
      connectionString,
      schema,
      this.poolQuery,
      this.writerQuery,
      quoteIdent(schema),
    );
    const events = this.t.events;
    const insert = `INSERT INTO ${events} (position, id, stream_id, revision, type, data, metadata, hash, partition_hash)
      SELECT p, i, $3, r, ty, d, m, h, ph
        FROM unnest($1::bigint[], $2::text[], $4::integer[], $5::text[], $6::text[], $7::text[], $8::text[], $9::integer[])
          AS e (p, i, r, ty, d, m, h, ph)`;
    const head = (stream: string): string =>
      `SELECT revision, hash, position FROM ${events} WHERE stream_id = ${stream} ORDER BY revision DESC LIMIT 1`;
    const stored = `SELECT id, stream_id, position FROM ${events} WHERE id = ANY($2::text[])`;
    this.sql = {
      insert,
      lookup: `(SELECT 'head' AS kind, revision, hash, NULL AS id, NULL AS stream_id, position FROM (${head('$1')}) h)
        UNION ALL SELECT 'id', NULL, NULL, id, stream_id, position FROM (${stored}) s`,
      // The insert's parameters, then $10, $11: the guessed head's revision and hash. The rows go in only if the
      // guess holds and no id is stored.
      lookupAndInsert: `WITH head AS (${head('$3')}), stored AS (${stored}),
        inserted AS (
          ${insert}
          WHERE COALESCE((SELECT revision FROM head), -1) = $10 AND COALESCE((SELECT hash FROM head), '') = $11
            AND NOT EXISTS (SELECT 1 FROM stored)
          RETURNING 1)
        SELECT 'head' AS kind, revision, hash, NULL AS id, NULL AS stream_id, position FROM head
        UNION ALL SELECT 'id', NULL, NULL, id, stream_id, position FROM stored
        UNION ALL SELECT 'inserted', NULL, NULL, NULL, NULL, (SELECT count(*) FROM inserted)::bigint`,
    };
  }

  /** Connects, creates the schema and tables when missing, and migrates them. */
  static async connect(connectionString: string, options: PostgresEventStoreOptions = {}): Promise<PostgresEventStore> {
    const schema = options.schema ?? 'public';
    if (!/^[a-z_][a-z0-9_]{0,40}$/.test(schema)) {
      throw new Error(`PostgreSQL schema name ${JSON.stringify(schema)}: lower-case letters, digits and _ only`);
    }
    const pool = new pg.Pool({ connectionString, max: Math.max(1, options.readConnections ?? 4) });
    // An idle connection the server drops must not crash the process: the next query gets a new one.
    pool.on('error', () => undefined);
    const store = new PostgresEventStore(connectionString, schema, pool, options.pollIntervalMs ?? 250);
    try {
      await store.migrate();
      await store.openWriter();
    } catch (error) {
      await store.close();
      throw error;
    }
    return store;
  }

  unitOfWork<T>(work: (tx: StoreTx) => Promise<T>): Promise<T> {
    this.assertOpen();
    return this.units.submit(work);
  }

  onCommitted(listener: (events: readonly StoredEvent[]) => void): () => void {
    this.committedListeners.add(listener);
    return () => this.committedListeners.delete(listener);
  }

  append(request: AppendRequest): Promise<AppendResult> {
    return this.unitOfWork((tx) => tx.append(request));
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

  readStream(streamId: string, options: ReadStreamOptions = {}): Promise<StoredEvent[]> {
    this.assertOpen();
    return this.readStreamWith(this.poolQuery, streamId, options);
  }

  readAll(fromPosition: number, maxCount: number, prefixes?: readonly string[]): Promise<StoredEvent[]> {
    this.assertOpen();
    return this.readAllWith(this.poolQuery, fromPosition, maxCount, prefixes);
  }

  async headPosition(): Promise<number> {
    this.assertOpen();
    return this.headWith(this.poolQuery);
  }

  async firstEventWithoutPartition(): Promise<{ position: number; streamId: string } | undefined> {
    this.assertOpen();
    const { rows } = await this.poolQuery<{ position: string; stream_id: string }>(
      `SELECT position, stream_id FROM ${this.t.events}
        WHERE partition_hash IS NULL AND (stream_id ^@ 'entity-' OR stream_id ^@ 'instance-')
        ORDER BY position LIMIT 1`,
    );
    const row = rows[0];
    return row && { position: Number(row.position), streamId: row.stream_id };
  }

  readPartitions(
    fromPosition: number,
    maxCount: number,
    filter: PartitionFilter,
    prefixes?: readonly string[],
  ): Promise<StoredEvent[]> {
    this.assertOpen();
    return this.readAllWith(this.poolQuery, fromPosition, maxCount, prefixes, filter);
  }

  subscribe(
    handler: (events: StoredEvent[]) => Promise<void>,
    options: SubscribeOptions & { onError?: (error: unknown) => void } = {},
  ): Subscription {
    this.assertOpen();
    this.listen();
    return startPolling(
      this.subscriptions,
      {
        head: () => this.headWith(this.poolQuery),
        read: (from, max) => this.readAllWith(this.poolQuery, from, max, options.prefixes, options.partitions),
        onAppended: (listener) => {
          this.appended.on(appendedSignal, listener);
          return () => this.appended.off(appendedSignal, listener);
        },
      },
      handler,
      options,
      { pollIntervalMs: this.pollIntervalMs, retryable: isConnectionLost },
    );
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([...this.subscriptions].map((s) => s.stop()));
    await this.units.drained;
    await Promise.all([
      this.partitionLeases.close(),
      this.writer?.end().catch(() => undefined),
      this.listener?.end().catch(() => undefined),
      this.pool.end().catch(() => undefined),
    ]);
  }

  // ---- units of work ----

  /** Queries on the writer connection, inside the open transaction. */
  readonly writerQuery: Query = (text, values) => {
    if (this.writer === undefined) throw new EventStoreClosed();
    return this.writer.query(text, values);
  };

  private readonly poolQuery: Query = (text, values) => this.pool.query(text, values);

  /**
   * One transaction for the batch, each unit in a savepoint: a unit that throws is rolled back to its
   * savepoint (its positions are handed out again) and the others commit. A round trip costs more than
   * the statements, so control statements travel together: BEGIN with the lock and the first savepoint,
   * a unit's RELEASE with the next one's SAVEPOINT, the head's update with COMMIT (which releases the last).
   */
  private async commitUnits(batch: QueuedUnit[]): Promise<void> {
    const outcomes: { unit: QueuedUnit; view: PostgresUnit; ok: boolean; value?: unknown; error?: unknown }[] = [];
    let startHead: number;
    try {
      if (this.writerLost) await this.openWriter();
      startHead = await this.begin();
    } catch (error) {
      // BEGIN fails for a lost connection (the server restarted, dropped it): the next batch starts on a new one.
      this.writerLost = true;
      for (const unit of batch) unit.reject(error);
      return;
    }
    /** Whether savepoint `unit` holds a committed unit's work: the next unit needs a savepoint of its own. */
    let holdsUnit = false;
    for (const unit of batch) {
      if (holdsUnit) {
        try {
          await this.writerQuery('RELEASE unit; SAVEPOINT unit');
        } catch (lost) {
          await this.abort();
          for (const rest of batch) rest.reject(lost);
          return;
        }
        holdsUnit = false;
      }
      const view = new PostgresUnit(this);
      const mark = this.txHead!;
      try {
        const value = await unit.work(view);
        await this.appendChain.catch(() => undefined);
        holdsUnit = true;
        outcomes.push({ unit, view, ok: true, value });
      } catch (error) {
        try {
          await this.appendChain.catch(() => undefined);
          // The savepoint stays, empty again: the next unit uses it.
          await this.writerQuery('ROLLBACK TO unit');
          this.txHead = mark;
          outcomes.push({ unit, view, ok: false, error });
        } catch (lost) {
          // The connection or the transaction is gone: nothing of this batch committed.
          await this.abort();
          for (const rest of batch) rest.reject(rest === unit ? error : lost);
          return;
        }
      }
    }
    const head = this.txHead!;
    this.txHead = undefined;
    try {
      // Positions are plain integers and the channel a checked identifier: one round trip for all three.
      await this.writerQuery(
        head === startHead
          ? 'COMMIT'
          : `UPDATE ${this.t.logHead} SET position = ${head}; NOTIFY ${quoteIdent(this.channel)}, '${head}'; COMMIT`,
      );
    } catch (error) {
      await this.abort();
      for (const { unit } of outcomes) unit.reject(error);
      return;
    }
    settleCommit(outcomes, this.committedListeners, () => this.appended.emit(appendedSignal));
  }

  /**
   * Begins the transaction and takes the log's write lock at once, outside any savepoint (a lock taken in a
   * savepoint rolled back would be released with it). Held to commit: commit order is position order.
   */
  private async begin(): Promise<number> {
    const results = (await this.writerQuery(
      `BEGIN; SELECT position FROM ${this.t.logHead} FOR UPDATE; SAVEPOINT unit`,
    )) as unknown as pg.QueryResult<{ position: string }>[];
    const head = Number(results[1]!.rows[0]!.position);
    this.txHead = head;
    return head;
  }

  private async abort(): Promise<void> {
    this.txHead = undefined;
    await this.writerQuery('ROLLBACK').catch(() => {
      this.writerLost = true;
    });
  }

  transactionHead(): number {
    if (this.txHead === undefined) throw new Error('No unit of work is open');
    return this.txHead;
  }

  /**
   * A nested savepoint inside a unit: undone, with the unit's record of it, if `work` throws. It is not
   * released when `work` succeeds (a round trip saved): the unit's release or the commit releases it.
   */
  async attemptWithin<T>(unit: PostgresUnit, work: () => Promise<T>): Promise<T> {
    const name = `attempt${++this.savepoints}`;
    const appended = unit.appended.length;
    const listeners = unit.commitListeners.length;
    const mark = this.transactionHead();
    await this.writerQuery(`SAVEPOINT ${name}`);
    try {
      const result = await work();
      await this.appendChain.catch(() => undefined);
      return result;
    } catch (error) {
      await this.appendChain.catch(() => undefined);
      // The savepoint stays, empty; a later one of the same name shadows it.
      await this.writerQuery(`ROLLBACK TO ${name}`);
      this.txHead = mark;
      unit.appended.length = appended;
      unit.commitListeners.length = listeners;
      throw error;
    } finally {
      this.savepoints--;
    }
  }

  /** An append inside the open transaction (a unit's view calls it), after the unit's earlier appends. */
  appendWithin(unit: PostgresUnit, request: AppendRequest): Promise<AppendResult> {
    this.assertOpen();
    const run = this.appendChain.catch(() => undefined).then(() => this.appendNow(unit, request));
    this.appendChain = run;
    return run;
  }

  private async appendNow(unit: PostgresUnit, request: AppendRequest): Promise<AppendResult> {
    const { streamId, events, expectedRevision } = request;
    // Every event's text first: one that cannot be stored as JSON (a bigint, a cycle) fails before any row.
    const metadataText = new OwnMetadataText();
    const texts = events.map((event) => ({
      data: canonicalJson(event.data),
      metadata: metadataText.of(event.id, event.metadata),
    }));
    const ids = events.map((event) => event.id);
    // A guess at the stream's head lets the rows go with the look-up; the statement inserts them only if the
    // guess was right and no id is stored, so a wrong guess costs a second round trip, never a wrong row.
    const guess = this.guessHead(streamId, expectedRevision, events.length);
    let rows = guess === undefined ? undefined : this.rowsOf(request, texts, guess.revision, guess.hash);
    const { rows: found } = await this.writerQuery<LookupRow>(
      rows === undefined ? this.sql.lookup : this.sql.lookupAndInsert,
      rows === undefined ? [streamId, ids] : [...this.insertValues(request, rows), guess!.revision, guess!.hash],
    );
    if (rows !== undefined && found.some((row) => row.kind === 'inserted' && Number(row.position) > 0)) {
      return this.recordAppend(unit, streamId, rows);
    }
    const head = found.find((row) => row.kind === 'head');
    const current = head?.revision ?? -1;
    const stored = new Map(found.filter((row) => row.kind === 'id').map((row) => [row.id!, row]));
    if (events.length > 0) {
      const first = stored.get(events[0]!.id);
      if (first !== undefined) {
        if (first.stream_id !== streamId) throw new EventIdConflict(events[0]!.id, streamId);
        const position = Math.max(...[...stored.values()].map((row) => Number(row.position)));
        return { duplicate: true, nextRevision: current, position };
      }
    }
    checkExpectedRevision(streamId, expectedRevision, current);
    if (events.length === 0) {
      return { duplicate: false, nextRevision: current, position: head === undefined ? 0 : Number(head.position) };
    }
    const taken = events.find((event) => stored.has(event.id));
    if (taken !== undefined) throw new EventIdConflict(taken.id, streamId);
    rows = this.rowsOf(request, texts, current, head?.hash ?? '');
    try {
      await this.writerQuery(this.sql.insert, this.insertValues(request, rows));
    } catch (error) {
      // Under the log's lock no other writer can be in between; an id repeated within the batch can.
      if (isUniqueViolation(error, 'id')) throw new EventIdConflict(uniqueViolationValue(error) ?? ids[0]!, streamId);
      if (isUniqueViolation(error, 'stream_id')) throw new WrongExpectedRevision(streamId, expectedRevision, current);
      throw error;
    }
    return this.recordAppend(unit, streamId, rows);
  }

  /** The head an append will most likely find: the last one this process wrote, or none for a new stream. */
  private guessHead(
    streamId: string,
    expected: AppendRequest['expectedRevision'],
    count: number,
  ): { revision: number; hash: string } | undefined {
    if (count === 0) return undefined;
    const guess = this.heads.get(streamId) ?? (typeof expected === 'number' && expected >= 0 ? undefined : NO_HEAD);
    if (guess === undefined) return undefined;
    // Only a guess the expected revision admits: a refused one must be refused on the real head.
    const wanted = expected === 'any' ? guess.revision : expected === 'no-stream' ? -1 : expected;
    return wanted === guess.revision ? guess : undefined;
  }

  /** The rows of an append onto a head: revisions, positions from the transaction's head, the stream's chain. */
  private rowsOf(
    request: AppendRequest,
    texts: { data: string; metadata: string }[],
    current: number,
    headHash: string,
  ): AppendRows {
    const { streamId, events } = request;
    let prevHash = headHash;
    let position = this.transactionHead();
    const rows: AppendRows = {
      position: [],
      revision: [],
      metadata: [],
      hash: [],
      partition: [],
      stored: [],
      nextRevision: 0,
    };
    events.forEach((event, i) => {
      const revision = current + 1 + i;
      const { data, metadata } = texts[i]!;
      const hash = eventHash(prevHash, canonicalEventText(event.id, streamId, revision, event.type, data, metadata));
      position++;
      rows.position.push(position);
      rows.revision.push(revision);
      // Metadata always holds messageId, so it is a non-empty object: splice the chain fields in at the end.
      rows.metadata.push(`${metadata.slice(0, -1)},"hash":"${hash}","prevHash":"${prevHash}"}`);
      rows.hash.push(hash);
      const key = event.metadata.partitionKey;
      rows.partition.push(key === undefined ? null : partitionHash(key));
      const owned = ownMetadata(event.id, event.metadata);
      owned.hash = hash;
      owned.prevHash = prevHash;
      rows.stored.push(
        withDataText(
          {
            id: event.id,
            type: event.type,
            data: event.data,
            metadata: owned as unknown as StoredEvent['metadata'],
            streamId,
            revision,
            position,
          },
          data,
        ),
      );
      prevHash = hash;
    });
    rows.nextRevision = current + events.length;
    return rows;
  }

  private insertValues(request: AppendRequest, rows: AppendRows): unknown[] {
    return [
      rows.position,
      request.events.map((event) => event.id),
      request.streamId,
      rows.revision,
      request.events.map((event) => event.type),
      rows.stored.map((event) => dataTextOf(event)),
      rows.metadata,
      rows.hash,
      rows.partition,
    ];
  }

  /** Records a written append: the unit's list, the transaction's head, the stream's head for the next guess. */
  private recordAppend(unit: PostgresUnit, streamId: string, rows: AppendRows): AppendResult {
    const last = rows.stored[rows.stored.length - 1]!;
    this.txHead = last.position;
    unit.appended.push(...rows.stored);
    if (this.heads.size >= HEAD_CACHE_LIMIT) this.heads.clear();
    this.heads.set(streamId, { revision: last.revision, hash: last.metadata.hash! });
    return { duplicate: false, nextRevision: rows.nextRevision, position: last.position };
  }

  // ---- reads ----

  async readStreamWith(query: Query, streamId: string, options: ReadStreamOptions = {}): Promise<StoredEvent[]> {
    this.assertOpen();
    const limit = options.maxCount ?? null;
    if (limit === 0) return [];
    const backwards = options.direction === 'backwards';
    const { rows } = await query<EventRow>(
      backwards
        ? `SELECT position, id, stream_id, revision, type, data, metadata FROM ${this.t.events}
            WHERE stream_id = $1 AND revision <= $2 ORDER BY revision DESC LIMIT $3`
        : `SELECT position, id, stream_id, revision, type, data, metadata FROM ${this.t.events}
            WHERE stream_id = $1 AND revision >= $2 ORDER BY revision ASC LIMIT $3`,
      [streamId, options.fromRevision ?? (backwards ? 2_147_483_647 : 0), limit],
    );
    return rows.map(toStoredEvent);
  }

  async readAllWith(
    query: Query,
    fromPosition: number,
    maxCount: number,
    prefixes?: readonly string[],
    partitions?: PartitionFilter,
  ): Promise<StoredEvent[]> {
    this.assertOpen();
    if (maxCount <= 0 || prefixes?.length === 0) return [];
    const values: unknown[] = [fromPosition, maxCount];
    const where = ['position > $1'];
    // `^@` is "starts with", without LIKE wildcards to escape.
    if (prefixes !== undefined) where.push(`stream_id ^@ ANY($${values.push(prefixes)}::text[])`);
    if (partitions !== undefined) {
      const count = `$${values.push(partitions.count)}::integer`;
      const owned = `partition_hash % ${count} = ANY($${values.push(partitions.owned)}::integer[])`;
      where.push(partitions.unpartitioned ? `(partition_hash IS NULL OR ${owned})` : owned);
    }
    const { rows } = await query<EventRow>(
      `SELECT position, id, stream_id, revision, type, data, metadata FROM ${this.t.events}
        WHERE ${where.join(' AND ')} ORDER BY position ASC LIMIT $2`,
      values,
    );
    return rows.map(toStoredEvent);
  }

  private async headWith(query: Query): Promise<number> {
    this.assertOpen();
    const { rows } = await query<{ position: string }>(`SELECT position FROM ${this.t.logHead}`);
    return Number(rows[0]?.position ?? 0);
  }

  // ---- connections ----

  private async openWriter(): Promise<void> {
    // A process that stops between two statements of a unit (frozen, not dead) would hold the log's lock for
    // every writer: the server ends such a transaction after a minute.
    const writer = new pg.Client({
      connectionString: this.connectionString,
      idle_in_transaction_session_timeout: IDLE_IN_TRANSACTION_MS,
    });
    // A lost connection fails the batch in flight; the next batch opens a new one.
    writer.on('error', () => {
      if (this.writer === writer) this.writerLost = true;
    });
    await writer.connect();
    const previous = this.writer;
    this.writer = writer;
    this.writerLost = false;
    await previous?.end().catch(() => undefined);
  }

  /** Appends of other processes wake subscriptions through LISTEN/NOTIFY; polling covers a lost listener. */
  private listen(): void {
    if (this.listener !== undefined) return;
    const listener = new pg.Client({ connectionString: this.connectionString });
    this.listener = listener;
    listener.on('notification', () => this.appended.emit(appendedSignal));
    listener.on('error', () => {
      if (this.listener === listener) this.listener = undefined;
    });
    listener
      .connect()
      .then(() => listener.query(`LISTEN ${quoteIdent(this.channel)}`))
      .catch(() => {
        if (this.listener === listener) this.listener = undefined;
      });
  }

  private async migrate(): Promise<void> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      // Two processes opening a new store at once: one migrates, the other waits and finds it done.
      await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`lifeline-migrate:${this.schema}`]);
      await client.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(this.schema)}`);
      const versionTable = `${quoteIdent(this.schema)}.schema_version`;
      await client.query(`CREATE TABLE IF NOT EXISTS ${versionTable} (version integer NOT NULL)`);
      const { rows } = await client.query<{ version: number }>(`SELECT version FROM ${versionTable}`);
      const version = rows[0]?.version ?? 0;
      if (version > migrations.length) {
        throw new Error(`Event store schema version ${version} is newer than this code (${migrations.length})`);
      }
      for (let v = version; v < migrations.length; v++) {
        await client.query(migrations[v]!.replaceAll('%s', quoteIdent(this.schema)));
      }
      if (rows.length === 0) await client.query(`INSERT INTO ${versionTable} VALUES ($1)`, [migrations.length]);
      else await client.query(`UPDATE ${versionTable} SET version = $1`, [migrations.length]);
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }

  private assertOpen(): void {
    if (this.closed && !this.units.draining) throw new EventStoreClosed();
  }
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
      position: Number(row.position),
    },
    row.data,
  );
}

function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

function isUniqueViolation(error: unknown, column: string): boolean {
  const { code, detail } = (error ?? {}) as { code?: unknown; detail?: unknown };
  return code === UNIQUE_VIOLATION && typeof detail === 'string' && detail.startsWith(`Key (${column})`);
}

/** The value in a unique violation's detail: `Key (id)=(abc) already exists.` */
function uniqueViolationValue(error: unknown): string | undefined {
  const detail = (error as { detail?: string }).detail ?? '';
  return /^Key \([^)]*\)=\((.*)\) already exists/.exec(detail)?.[1];
}
