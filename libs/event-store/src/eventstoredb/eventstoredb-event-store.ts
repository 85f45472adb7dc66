import {
  BACKWARDS,
  END,
  EventStoreDBClient,
  FORWARDS,
  NO_STREAM,
  START,
  StreamNotFoundError,
  UnavailableError,
  WrongExpectedVersionError,
  excludeSystemEvents,
  jsonEvent,
  streamNameFilter,
  type AllStreamResolvedEvent,
  type AllStreamSubscription,
  type JSONType,
  type Position,
  type ReadPosition,
  type ResolvedEvent,
} from '@eventstore/db-client';
import {
  WrongExpectedRevision,
  type PartitionFilter,
  type AppendRequest,
  type AppendResult,
  type EventStore,
  type ReadStreamOptions,
  type StoreTx,
  type StoredEvent,
  type SubscribeOptions,
  type Subscription,
} from '../event-store';
import { canonicalEventText, canonicalJson, eventHash } from '../hash-chain';
import { EventStoreClosed, checkExpectedRevision, ownMetadata } from '../store-rules';
import { PositionWaiters } from '../position-waiters';
import type { PartitionedStore } from '../partitions';
import { PartitionKeyCheck, StreamPartitionLeases, isInternalStream, partitionWants } from '../stream-partitions';

/** How far back from a stream's end a retried batch is looked for (ESDB has no event-id index). */
const duplicateWindow = 64;
/** Page size when scanning $all client-side (readAll in client 6 has no server-side filter). */
const allPageSize = 500;
/** Retries of an 'any' append that lost the optimistic race for the hash-chain tail. */
const anyRetries = 5;
/** How long a partition lease lasts without renewal, unless told otherwise. */
const defaultLeaseTtlMs = 10_000;
/** Events a lease stream keeps: the last is the whole lease, the rest are for reading its recent history. */
const leaseStreamMaxCount = 16;

type RecordedEvent = NonNullable<ResolvedEvent['event']>;

/**
 * The distributed event store. Global position = the event's commit position in $all (a JS number:
 * exact up to 2^53, i.e. 9 PB of log). Differences from SQLite, all forced by EventStoreDB:
 * - appendMany goes stream by stream (no multi-stream transactions); each append is idempotent by id.
 * - A retried batch is recognised when its first event is among the last `duplicateWindow` events of
 *   the stream; an id reused in another stream is not detected (no global event-id index).
 */
export class EventStoreDbEventStore implements EventStore, PartitionedStore {
  /** No multi-stream transactions: each append of a unit is durable on its own. */
  readonly atomicUnits = false;
  /**
   * Ownership by partition (docs/decisions/0013-ownership-by-partition.md): leases and checkpoints in a stream
   * per partition, fenced by expected revisions, expiring unless renewed (there is no session to end with a
   * dead process).
   */
  readonly partitionLeases: StreamPartitionLeases;
  private readonly keyCheck: PartitionKeyCheck;
  private readonly subscriptions = new Set<EventStoreDbSubscription>();
  private closed = false;

  private constructor(
    private readonly client: EventStoreDBClient,
    options: EventStoreDbOptions,
  ) {
    this.partitionLeases = new StreamPartitionLeases(this, {
      ttlMs: options.leaseTtlMs ?? defaultLeaseTtlMs,
      // Each write of a lease is its whole state: the stream keeps a few, the server scavenges the rest.
      // A server that refuses the metadata (an ACL) still keeps the leases: the streams only grow.
      prepareStream: async (streamId) => {
        await this.client.setStreamMetadata(streamId, { maxCount: leaseStreamMaxCount }).catch(() => undefined);
      },
    });
    this.keyCheck = new PartitionKeyCheck(this, (from, found) => this.scanFor(from, found));
  }

  static connect(connectionString: string, options: EventStoreDbOptions = {}): EventStoreDbEventStore {
    return EventStoreDbEventStore.withClient(EventStoreDBClient.connectionString(connectionString), options);
  }

  /** Over a client made elsewhere (the adapter's unit spec gives one that answers from memory). */
  static withClient(client: EventStoreDBClient, options: EventStoreDbOptions = {}): EventStoreDbEventStore {
    return new EventStoreDbEventStore(client, options);
  }

  async append(request: AppendRequest): Promise<AppendResult> {
    this.assertOpen();
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.appendOnce(request);
      } catch (error) {
        // 'any' does not care which revision it lands on: re-read the tail and chain onto it.
        if (request.expectedRevision === 'any' && error instanceof WrongExpectedRevision && attempt < anyRetries)
          continue;
        throw error;
      }
    }
  }

  /**
   * A unit without a transaction: appends go straight to the store, in order. `appended` stays empty
   * (EventStoreDB gives the commit position of a write, not each event's), so nothing here is
   * applied inline: subscriptions deliver what was written.
   */
  async unitOfWork<T>(work: (tx: StoreTx) => Promise<T>): Promise<T> {
    this.assertOpen();
    const listeners: (() => void)[] = [];
    const tx: StoreTx = {
      append: (request) => this.append(request),
      readStream: (streamId, options) => this.readStream(streamId, options),
      readAll: (fromPosition, maxCount, prefixes) => this.readAll(fromPosition, maxCount, prefixes),
      headPosition: () => this.headPosition(),
      // The write path names each event's record: engines share the records by partition through it.
      keepsPartitions: true,
      appended: [],
      onCommit: (listener) => void listeners.push(listener),
      // Nothing to undo: what was appended stays.
      attempt: (part) => part(),
    };
    const result = await work(tx);
    for (const listener of listeners) listener();
    return result;
  }

  /** Never called: see unitOfWork. */
  onCommitted(): () => void {
    return () => undefined;
  }

  async appendMany(requests: AppendRequest[]): Promise<AppendResult[]> {
    const results: AppendResult[] = [];
    for (const request of requests) results.push(await this.append(request));
    return results;
  }

  async readStream(streamId: string, options: ReadStreamOptions = {}): Promise<StoredEvent[]> {
    this.assertOpen();
    if (options.maxCount === 0) return [];
    const backwards = options.direction === 'backwards';
    const fromRevision = options.fromRevision === undefined ? (backwards ? END : START) : BigInt(options.fromRevision);
    const events: StoredEvent[] = [];
    try {
      const read = this.client.readStream(streamId, {
        direction: backwards ? BACKWARDS : FORWARDS,
        fromRevision,
        maxCount: options.maxCount ?? Number.MAX_SAFE_INTEGER,
      });
      for await (const resolved of read) {
        if (resolved.event !== undefined) events.push(toStoredEvent(resolved.event));
      }
    } catch (error) {
      if (error instanceof StreamNotFoundError) return [];
      throw error;
    }
    return events;
  }

  async readAll(fromPosition: number, maxCount: number, prefixes?: readonly string[]): Promise<StoredEvent[]> {
    this.assertOpen();
    return this.scanAll(fromPosition, maxCount, prefixes);
  }

  /**
   * The events of the owned partitions (and of no record, when the filter says so). EventStoreDB cannot filter
   * by metadata on the server: the log is read and the other partitions' events are passed over here.
   */
  async readPartitions(
    fromPosition: number,
    maxCount: number,
    filter: PartitionFilter,
    prefixes?: readonly string[],
  ): Promise<StoredEvent[]> {
    this.assertOpen();
    return this.scanAll(fromPosition, maxCount, prefixes, filter);
  }

  firstEventWithoutPartition(): Promise<{ position: number; streamId: string } | undefined> {
    this.assertOpen();
    return this.keyCheck.firstEventWithoutPartition();
  }

  /** Reads $all after `fromPosition`, page by page, keeping what the prefixes and the filter want (at most maxCount). */
  private async scanAll(
    fromPosition: number,
    maxCount: number,
    prefixes?: readonly string[],
    filter?: PartitionFilter,
  ): Promise<StoredEvent[]> {
    const events: StoredEvent[] = [];
    if (maxCount <= 0 || prefixes?.length === 0) return events;
    let cursor = fromPosition;
    for (;;) {
      let seen = 0;
      const read = this.client.readAll({
        direction: FORWARDS,
        fromPosition: readPosition(cursor),
        maxCount: allPageSize,
      });
      for await (const resolved of read) {
        seen++;
        const event = resolved.event;
        if (event === undefined || event.position === undefined) continue;
        const position = Number(event.position.commit);
        // fromPosition is inclusive in ESDB and exclusive in the port.
        if (position <= cursor) continue;
        cursor = position;
        if (isSystem(event) || !matches(event.streamId, prefixes)) continue;
        const stored = toStoredEvent(event);
        if (!partitionWants(filter, stored)) continue;
        events.push(stored);
        if (events.length >= maxCount) {
          await read.cancel();
          return events;
        }
      }
      if (seen < allPageSize) return events;
    }
  }

  /** The first event after `fromPosition` that `found` wants, and how far the log was read. */
  private async scanFor(
    fromPosition: number,
    found: (event: StoredEvent) => boolean,
  ): Promise<{ event?: StoredEvent; upTo: number }> {
    let cursor = fromPosition;
    for (;;) {
      const page = await this.scanAll(cursor, allPageSize);
      const hit = page.find(found);
      if (hit) return { event: hit, upTo: cursor };
      if (page.length < allPageSize) return { upTo: Math.max(cursor, page.at(-1)?.position ?? cursor) };
      cursor = page.at(-1)!.position;
    }
  }

  async headPosition(): Promise<number> {
    this.assertOpen();
    let from: ReadPosition = END;
    for (;;) {
      let seen = 0;
      let last: Position | undefined;
      const read = this.client.readAll({ direction: BACKWARDS, fromPosition: from, maxCount: allPageSize });
      for await (const resolved of read) {
        seen++;
        const event = resolved.event;
        if (event?.position === undefined) continue;
        if (!isSystem(event)) {
          await read.cancel();
          return Number(event.position.commit);
        }
        last = event.position;
      }
      if (seen < allPageSize || last === undefined) return 0;
      from = last;
    }
  }

  subscribe(
    handler: (events: StoredEvent[]) => Promise<void>,
    options: SubscribeOptions & { onError?: (error: unknown) => void } = {},
  ): Subscription {
    this.assertOpen();
    const subscription = new EventStoreDbSubscription(this.client, handler, options, (s) =>
      this.subscriptions.delete(s),
    );
    this.subscriptions.add(subscription);
    subscription.start();
    return subscription;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.partitionLeases.close();
    await Promise.all([...this.subscriptions].map((s) => s.stop()));
    await this.client.dispose();
  }

  private async appendOnce(request: AppendRequest): Promise<AppendResult> {
    const { streamId, events, expectedRevision } = request;
    const tail = await this.readStream(streamId, {
      direction: 'backwards',
      maxCount: Math.max(1, events.length) + duplicateWindow,
    });
    const current = tail[0]?.revision ?? -1;
    if (events.length > 0) {
      const first = tail.find((e) => e.id === events[0]!.id);
      if (first !== undefined) {
        const ids = new Set(events.map((e) => e.id));
        const position = Math.max(...tail.filter((e) => ids.has(e.id)).map((e) => e.position));
        return { duplicate: true, nextRevision: current, position };
      }
    }
    checkExpectedRevision(streamId, expectedRevision, current);
    if (events.length === 0) return { duplicate: false, nextRevision: current, position: tail[0]?.position ?? 0 };

    let prevHash = tail[0]?.metadata.hash ?? '';
    const data = events.map((event, i) => {
      const canonicalData = canonicalJson(event.data);
      const metadata = ownMetadata(event.id, event.metadata);
      const revision = current + 1 + i;
      const hash = eventHash(
        prevHash,
        canonicalEventText(event.id, streamId, revision, event.type, canonicalData, canonicalJson(metadata)),
      );
      const chained = { ...metadata, hash, prevHash };
      prevHash = hash;
      // Data and metadata go as parsed canonical JSON: ESDB stores JSON, the port's data is `unknown`.
      return jsonEvent({
        id: event.id,
        type: event.type,
        data: JSON.parse(canonicalData) as JSONType,
        metadata: chained,
      });
    });
    try {
      // Always the revision we chained onto: a concurrent writer fails here instead of forking the chain.
      const result = await this.client.appendToStream(streamId, data, {
        expectedRevision: current === -1 ? NO_STREAM : BigInt(current),
      });
      return {
        duplicate: false,
        nextRevision: Number(result.nextExpectedRevision),
        position: result.position === undefined ? 0 : Number(result.position.commit),
      };
    } catch (error) {
      if (error instanceof WrongExpectedVersionError) {
        const actual = typeof error.actualVersion === 'bigint' ? Number(error.actualVersion) : -1;
        throw new WrongExpectedRevision(streamId, expectedRevision, actual);
      }
      throw error;
    }
  }

  private assertOpen(): void {
    if (this.closed) throw new EventStoreClosed();
  }
}

export interface EventStoreDbOptions {
  /** How long a partition lease lasts without renewal (ms): how long a dead engine's partitions wait. */
  leaseTtlMs?: number;
}

function readPosition(position: number): ReadPosition {
  if (position <= 0) return START;
  const at = BigInt(position);
  return { commit: at, prepare: at };
}

/** The server's own events, and the streams this adapter keeps for itself (leases, checkpoints): no reader's. */
function isSystem(event: RecordedEvent): boolean {
  return event.type.startsWith('$') || event.streamId.startsWith('$') || isInternalStream(event.streamId);
}

function matches(streamId: string, prefixes: readonly string[] | undefined): boolean {
  return prefixes === undefined || prefixes.some((prefix) => streamId.startsWith(prefix));
}

function toStoredEvent(event: RecordedEvent): StoredEvent {
  const metadata = (event.isJson ? event.metadata : decodeJson(event.metadata)) as StoredEvent['metadata'];
  return {
    id: event.id,
    type: event.type,
    data: event.isJson ? event.data : decodeJson(event.data),
    metadata: { ...metadata, messageId: event.id },
    streamId: event.streamId,
    revision: Number(event.revision),
    // Stream reads of older servers carry no $all position: -1 says "unknown".
    position: event.position === undefined ? -1 : Number(event.position.commit),
  };
}

function decodeJson(value: unknown): unknown {
  if (value instanceof Uint8Array)
    return value.length === 0 ? null : (JSON.parse(Buffer.from(value).toString('utf8')) as unknown);
  return value;
}

/**
 * A catch-up subscription to $all that batches events for the handler, tracks the last position it
 * handled, and re-subscribes from there when the connection is lost.
 */
class EventStoreDbSubscription implements Subscription {
  private stream: AllStreamSubscription | undefined;
  private buffer: StoredEvent[] = [];
  private inFlight: Promise<void> | undefined;
  private handledUpTo: number;
  /** Position of the last event taken from the server: a re-subscription starts after it. */
  private lastReceived: number;
  /** A filter checkpoint seen while events were still buffered: applies once they are handled. */
  private pendingCheckpoint = 0;
  private stopped = false;
  private reconnectDelayMs = 500;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private readonly waiters = new PositionWaiters();
  private readonly batchSize: number;

  constructor(
    private readonly client: EventStoreDBClient,
    private readonly handler: (events: StoredEvent[]) => Promise<void>,
    private readonly options: SubscribeOptions & { onError?: (error: unknown) => void },
    private readonly onStopped: (s: EventStoreDbSubscription) => void,
  ) {
    this.handledUpTo = Math.max(0, options.fromPosition ?? 0);
    this.lastReceived = this.handledUpTo;
    this.batchSize = options.batchSize ?? 500;
  }

  start(): void {
    const checkpointReached = (_: AllStreamSubscription, position: Position): void =>
      this.passedOver(Number(position.commit));
    const filter =
      this.options.prefixes === undefined
        ? excludeSystemEvents({ checkpointReached })
        : streamNameFilter({ prefixes: [...this.options.prefixes], checkpointReached });
    const stream = this.client.subscribeToAll({ fromPosition: readPosition(this.lastReceived), filter });
    this.stream = stream;
    stream.on('data', (resolved: AllStreamResolvedEvent) => this.receive(resolved));
    stream.on('error', (error: Error) => this.lost(stream, error));
    stream.on('caughtUp', () => {
      this.reconnectDelayMs = 500;
    });
  }

  async stop(): Promise<void> {
    if (this.stopped) {
      await this.inFlight;
      return;
    }
    this.stopped = true;
    clearTimeout(this.reconnectTimer);
    const stream = this.stream;
    this.stream = undefined;
    await stream?.unsubscribe().catch(() => undefined);
    await this.inFlight;
    this.finish();
  }

  position(): number {
    return this.handledUpTo;
  }

  caughtUpTo(position: number, timeoutMs = 5000): Promise<boolean> {
    if (this.handledUpTo >= position) return Promise.resolve(true);
    if (this.stopped) return Promise.resolve(false);
    return this.waiters.wait(position, timeoutMs);
  }

  private receive(resolved: AllStreamResolvedEvent): void {
    const event = resolved.event;
    if (this.stopped || event?.position === undefined) return;
    const position = Number(event.position.commit);
    // After a re-subscription the server may send again what was already received.
    if (position <= this.lastReceived) return;
    this.lastReceived = position;
    const stored = isSystem(event) ? undefined : toStoredEvent(event);
    if (stored === undefined || !partitionWants(this.options.partitions, stored)) {
      // Not this subscription's (another partition's record, or a lease): it is passed over, as a checkpoint is.
      this.passedOver(position);
      return;
    }
    this.buffer.push(stored);
    if (this.buffer.length >= this.batchSize) this.stream?.pause();
    if (this.inFlight === undefined) this.inFlight = this.deliver();
  }

  /** Everything up to `position` that this subscription wants is delivered once what is buffered is handled. */
  private passedOver(position: number): void {
    if (this.buffer.length === 0 && this.inFlight === undefined) this.markHandled(position);
    else this.pendingCheckpoint = Math.max(this.pendingCheckpoint, position);
  }

  private async deliver(): Promise<void> {
    // Let the events already received arrive, so one handler call gets a batch, not one event.
    await new Promise((resolve) => setImmediate(resolve));
    while (this.buffer.length > 0 && !this.stopped) {
      const batch = this.buffer.splice(0, this.batchSize);
      try {
        await this.handler(batch);
      } catch (error) {
        this.inFlight = undefined;
        this.fail(error);
        return;
      }
      this.markHandled(batch[batch.length - 1]!.position);
      if (this.buffer.length < this.batchSize) this.stream?.resume();
    }
    if (this.buffer.length === 0 && this.pendingCheckpoint > 0) {
      this.markHandled(this.pendingCheckpoint);
      this.pendingCheckpoint = 0;
    }
    this.inFlight = undefined;
  }

  private lost(stream: AllStreamSubscription, error: Error): void {
    if (this.stopped || stream !== this.stream) return;
    this.stream = undefined;
    if (!(error instanceof UnavailableError)) {
      this.fail(error);
      return;
    }
    // Events still buffered are delivered; the new subscription starts after the last one received.
    this.reconnectTimer = setTimeout(() => {
      if (!this.stopped) this.start();
    }, this.reconnectDelayMs);
    this.reconnectDelayMs = Math.min(this.reconnectDelayMs * 2, 10_000);
  }

  private markHandled(position: number): void {
    if (position <= this.handledUpTo) return;
    this.handledUpTo = position;
    this.waiters.reached(position);
  }

  private fail(error: unknown): void {
    if (this.stopped) return;
    this.stopped = true;
    clearTimeout(this.reconnectTimer);
    void this.stream?.unsubscribe().catch(() => undefined);
    this.stream = undefined;
    this.finish();
    try {
      this.options.onError?.(error);
    } catch {
      // An onError that throws must not become an unhandled rejection.
    }
  }

  private finish(): void {
    this.buffer = [];
    this.waiters.cancel();
    this.onStopped(this);
  }
}
