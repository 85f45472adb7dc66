import { EventEmitter } from 'node:events';
import Database from 'better-sqlite3';
import {
  EventIdConflict,
  type PartitionFilter,
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
import { computeEventHash, hashedMetadata } from '../hash-chain';
import { EventStoreClosed, checkExpectedRevision, ownMetadata } from '../store-rules';
import { startPolling, type PollingSubscription } from '../polling-subscription';
import type { PartitionedStore } from '../partitions';
import {
  PartitionKeyCheck,
  StreamPartitionLeases,
  isInternalStream,
  partitionWants,
  type StreamPartitionLeasesOptions,
} from '../stream-partitions';

/**
 * An event store in memory, for the engine's int specs: the same contract as the SQLite store
 * (units of work are atomic, ids are unique across streams, the hash chain is kept), nothing on
 * disk. Units run one at a time; a unit that throws is undone entry by entry. With
 * `atomicUnits: false` it behaves as EventStoreDB does instead: each append stands alone, nothing is
 * undone, nothing is applied inline (subscriptions deliver), so the distributed schedule can be tested.
 */
export class InMemoryEventStore implements EventStore {
  readonly atomicUnits: boolean;
  /** An in-memory SQLite database whose transactions follow the units (state kept beside the events). */
  readonly sidecar = new Database(':memory:');
  readonly sidecarHoldsEvents = false;
  private readonly log: StoredEvent[];
  private readonly streams: Map<string, StoredEvent[]>;
  private readonly ids: Map<string, StoredEvent>;
  private readonly signal: EventEmitter;
  private readonly committedListeners = new Set<(events: readonly StoredEvent[]) => void>();
  private readonly subscriptions = new Set<PollingSubscription>();
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;
  /** Whether units name each event's record (a partitioned store's write path does). */
  protected keepsPartitions = false;

  /** `sharing`: another store whose log this one reads and appends to (a second connection to one server). */
  constructor(options: { atomicUnits?: boolean } = {}, sharing?: InMemoryEventStore) {
    this.atomicUnits = options.atomicUnits ?? true;
    this.log = sharing?.log ?? [];
    this.streams = sharing?.streams ?? new Map();
    this.ids = sharing?.ids ?? new Map();
    this.signal = sharing?.signal ?? new EventEmitter();
    this.signal.setMaxListeners(0);
  }

  unitOfWork<T>(work: (tx: StoreTx) => Promise<T>): Promise<T> {
    this.assertOpen();
    const run = this.queue.then(() => this.runUnit(work));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async runUnit<T>(work: (tx: StoreTx) => Promise<T>): Promise<T> {
    if (!this.atomicUnits) return this.runLooseUnit(work);
    const appended: StoredEvent[] = [];
    const listeners: (() => void)[] = [];
    const tx: StoreTx = {
      append: async (request) => this.appendNow(request, appended),
      readStream: async (streamId, options) => this.readStreamNow(streamId, options),
      readAll: async (from, max, prefixes) => this.readAllNow(from, max, prefixes),
      headPosition: async () => this.log.length,
      keepsPartitions: this.keepsPartitions,
      appended,
      onCommit: (listener) => void listeners.push(listener),
      attempt: async (part) => {
        const mark = appended.length;
        const hooks = listeners.length;
        const savepoint = `attempt${++this.savepoints}`;
        this.sidecar.exec(`SAVEPOINT ${savepoint}`);
        try {
          const result = await part();
          this.sidecar.exec(`RELEASE ${savepoint}`);
          return result;
        } catch (error) {
          this.sidecar.exec(`ROLLBACK TO ${savepoint}`);
          this.sidecar.exec(`RELEASE ${savepoint}`);
          this.undo(appended.splice(mark));
          listeners.length = hooks;
          throw error;
        } finally {
          this.savepoints--;
        }
      },
    };
    this.sidecar.exec('BEGIN');
    try {
      const result = await work(tx);
      this.sidecar.exec('COMMIT');
      for (const listener of listeners) listener();
      if (appended.length > 0) {
        for (const listener of this.committedListeners) listener(appended);
        this.signal.emit('appended');
      }
      return result;
    } catch (error) {
      if (this.sidecar.inTransaction) this.sidecar.exec('ROLLBACK');
      this.undo(appended);
      throw error;
    }
  }

  private savepoints = 0;

  /** A unit as EventStoreDB runs one: every append durable on its own, subscriptions told at once. */
  private async runLooseUnit<T>(work: (tx: StoreTx) => Promise<T>): Promise<T> {
    const listeners: (() => void)[] = [];
    const tx: StoreTx = {
      append: async (request) => this.appendAlone(request),
      readStream: async (streamId, options) => this.readStreamNow(streamId, options),
      readAll: async (from, max, prefixes) => this.readAllNow(from, max, prefixes),
      headPosition: async () => this.log.length,
      keepsPartitions: this.keepsPartitions,
      appended: [],
      onCommit: (listener) => void listeners.push(listener),
      attempt: (part) => part(),
    };
    const result = await work(tx);
    for (const listener of listeners) listener();
    return result;
  }

  /** An append on its own, as EventStoreDB makes every append (outside the queue of units: it waits for none). */
  protected appendAlone(request: AppendRequest): AppendResult {
    const result = this.appendNow(request, []);
    if (!result.duplicate) this.signal.emit('appended');
    return result;
  }

  private undo(appended: StoredEvent[]): void {
    for (const event of [...appended].reverse()) {
      this.log.pop();
      this.ids.delete(event.id);
      const stream = this.streams.get(event.streamId)!;
      stream.pop();
      if (stream.length === 0) this.streams.delete(event.streamId);
    }
  }

  onCommitted(listener: (events: readonly StoredEvent[]) => void): () => void {
    this.committedListeners.add(listener);
    return () => this.committedListeners.delete(listener);
  }

  append(request: AppendRequest): Promise<AppendResult> {
    return this.unitOfWork((tx) => tx.append(request));
  }

  appendMany(requests: AppendRequest[]): Promise<AppendResult[]> {
    return this.unitOfWork(async (tx) => {
      const results: AppendResult[] = [];
      for (const request of requests) results.push(await tx.append(request));
      return results;
    });
  }

  private appendNow(request: AppendRequest, appended: StoredEvent[]): AppendResult {
    this.assertOpen();
    const { streamId, events, expectedRevision } = request;
    const stream = this.streams.get(streamId) ?? [];
    const current = stream.length - 1;
    if (events.length > 0) {
      const existing = this.ids.get(events[0]!.id);
      if (existing !== undefined) {
        if (existing.streamId !== streamId) throw new EventIdConflict(events[0]!.id, streamId);
        const last = events.reduce((max, e) => Math.max(max, this.ids.get(e.id)?.position ?? 0), existing.position);
        return { duplicate: true, nextRevision: current, position: last };
      }
    }
    checkExpectedRevision(streamId, expectedRevision, current);
    if (events.length === 0) return { duplicate: false, nextRevision: current, position: stream.at(-1)?.position ?? 0 };
    for (const event of events) {
      if (this.ids.has(event.id)) throw new EventIdConflict(event.id, streamId);
    }
    let prevHash = stream.at(-1)?.metadata.hash ?? '';
    for (const event of events) {
      const stored = this.store(event, streamId, stream.length, prevHash);
      stream.push(stored);
      this.streams.set(streamId, stream);
      this.log.push(stored);
      this.ids.set(stored.id, stored);
      appended.push(stored);
      prevHash = stored.metadata.hash!;
    }
    return { duplicate: false, nextRevision: stream.length - 1, position: this.log.length };
  }

  private store(event: NewEvent, streamId: string, revision: number, prevHash: string): StoredEvent {
    // A JSON round trip: what comes back is what a durable store would give back.
    const data = JSON.parse(JSON.stringify(event.data ?? null)) as unknown;
    const metadata = ownMetadata(event.id, event.metadata);
    const hash = computeEventHash(prevHash, {
      id: event.id,
      streamId,
      revision,
      type: event.type,
      data,
      metadata: hashedMetadata(metadata),
    });
    return {
      id: event.id,
      type: event.type,
      data,
      metadata: { ...metadata, hash, prevHash } as StoredEvent['metadata'],
      streamId,
      revision,
      position: this.log.length + 1,
    };
  }

  async readStream(streamId: string, options: ReadStreamOptions = {}): Promise<StoredEvent[]> {
    this.assertOpen();
    return this.readStreamNow(streamId, options);
  }

  private readStreamNow(streamId: string, options: ReadStreamOptions = {}): StoredEvent[] {
    const stream = this.streams.get(streamId) ?? [];
    const max = options.maxCount ?? Number.MAX_SAFE_INTEGER;
    if (max <= 0) return [];
    if (options.direction === 'backwards') {
      const from = Math.min(options.fromRevision ?? stream.length - 1, stream.length - 1);
      return stream.slice(Math.max(0, from - max + 1), from + 1).reverse();
    }
    const from = options.fromRevision ?? 0;
    return stream.slice(from, from + max);
  }

  async readAll(fromPosition: number, maxCount: number, prefixes?: readonly string[]): Promise<StoredEvent[]> {
    this.assertOpen();
    return this.readAllNow(fromPosition, maxCount, prefixes);
  }

  /** The log after `fromPosition`; the streams a partitioned store keeps for itself are no reader's. */
  protected readAllNow(
    fromPosition: number,
    maxCount: number,
    prefixes?: readonly string[],
    filter?: PartitionFilter,
  ): StoredEvent[] {
    const out: StoredEvent[] = [];
    for (let i = Math.max(0, fromPosition); i < this.log.length && out.length < maxCount; i++) {
      const event = this.log[i]!;
      if (isInternalStream(event.streamId) || !partitionWants(filter, event)) continue;
      if (prefixes === undefined || prefixes.some((p) => event.streamId.startsWith(p))) out.push(event);
    }
    return out;
  }

  async headPosition(): Promise<number> {
    this.assertOpen();
    return this.log.length;
  }

  subscribe(
    handler: (events: StoredEvent[]) => Promise<void>,
    options: SubscribeOptions & { onError?: (error: unknown) => void } = {},
  ): Subscription {
    this.assertOpen();
    return startPolling(
      this.subscriptions,
      {
        head: () => this.log.length,
        read: (from, max) => this.readAllNow(from, max, options.prefixes, options.partitions),
        onAppended: (listener) => {
          this.signal.on('appended', listener);
          return () => this.signal.off('appended', listener);
        },
      },
      handler,
      options,
      { pollIntervalMs: 1_000 },
    );
  }

  /** Closes the store; its events stay in memory, and `reopen()` gives a store over them (the persistence check). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([...this.subscriptions].map((s) => s.stop()));
    await this.queue;
    this.sidecar.close();
  }

  /** A new open store over the same events (as reopening a file would). */
  reopen(): InMemoryEventStore {
    const store = new InMemoryEventStore();
    // The sidecar's tables are not carried over: state kept there is rebuilt from the log.
    for (const event of this.log) {
      store.log.push(event);
      store.ids.set(event.id, event);
      const stream = store.streams.get(event.streamId) ?? [];
      stream.push(event);
      store.streams.set(event.streamId, stream);
    }
    return store;
  }

  protected assertOpen(): void {
    if (this.closed) throw new EventStoreClosed();
  }
}

/**
 * The in-memory store as EventStoreDB shares work by partition: units are not atomic, each event names its
 * record, and the leases live in streams of the store (the same `StreamPartitionLeases` as EventStoreDB's).
 * The ownership specs run on it where no EventStoreDB server is at hand.
 */
export class PartitionedInMemoryEventStore extends InMemoryEventStore implements PartitionedStore {
  readonly partitionLeases: StreamPartitionLeases;
  private readonly keyCheck: PartitionKeyCheck;

  constructor(leases: Omit<StreamPartitionLeasesOptions, 'prepareStream'>, sharing?: PartitionedInMemoryEventStore) {
    super({ atomicUnits: false }, sharing);
    this.keepsPartitions = true;
    // The leases write as EventStoreDB's do, outside the units: a renewal never waits for a unit that waits for it.
    const alone = { append: async (request: AppendRequest) => this.appendAlone(request) };
    this.partitionLeases = new StreamPartitionLeases(
      { ...alone, readStream: (id, options) => this.readStream(id, options) },
      leases,
    );
    this.keyCheck = new PartitionKeyCheck(this, async (from, found) => {
      const events = this.readAllNow(from, Number.MAX_SAFE_INTEGER);
      return { event: events.find(found), upTo: events.at(-1)?.position ?? from };
    });
  }

  /** Another connection to the same log, with leases of its own (as another engine process has). */
  connect(leases: Omit<StreamPartitionLeasesOptions, 'prepareStream'>): PartitionedInMemoryEventStore {
    return new PartitionedInMemoryEventStore(leases, this);
  }

  firstEventWithoutPartition(): Promise<{ position: number; streamId: string } | undefined> {
    return this.keyCheck.firstEventWithoutPartition();
  }

  async readPartitions(
    fromPosition: number,
    maxCount: number,
    filter: PartitionFilter,
    prefixes?: readonly string[],
  ): Promise<StoredEvent[]> {
    this.assertOpen();
    return this.readAllNow(fromPosition, maxCount, prefixes, filter);
  }

  override async close(): Promise<void> {
    await this.partitionLeases.close();
    await super.close();
  }
}
