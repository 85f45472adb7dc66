/** The event-store port. Every adapter passes `test/contract/event-store.contract.ts`. */

export interface EventMetadataIn {
  correlationId: string;
  causationId: string;
  actor: string;
  at: string;
  /** The W3C trace context the event was recorded in (`00-<trace id>-<span id>-<flags>`), when one came in. */
  traceparent?: string;
  /**
   * The record the event belongs to, `<entityType>:<entityId>` (the Kafka key of its entity events): the
   * work it causes belongs to that record's partition (partitions.ts). Absent for events of no record.
   */
  partitionKey?: string;
}

/** An event to append. `id` is the caller's (deterministic) id: appending it twice is a no-op. */
export interface NewEvent {
  id: string;
  type: string;
  data: unknown;
  metadata: EventMetadataIn;
}

export interface StoredEvent {
  id: string;
  type: string;
  data: unknown;
  /** Includes `messageId` (= id) and the hash-chain fields added by the store. */
  metadata: EventMetadataIn & { messageId: string; prevHash?: string; hash?: string };
  streamId: string;
  /** 0-based index of the event in its stream. */
  revision: number;
  /** Global, strictly increasing position in the store's log (never reused). */
  position: number;
}

/**
 * The canonical JSON text of an event's data, when the store has it at hand (it wrote or read it as
 * text): a projection that stores the data keeps it instead of serialising it again. Not enumerable,
 * so copies and JSON of the event do not carry it.
 */
export const DATA_TEXT: unique symbol = Symbol.for('lifeline.event.dataText');

export const dataTextOf = (event: StoredEvent): string | undefined =>
  (event as StoredEvent & { [DATA_TEXT]?: string })[DATA_TEXT];

export const withDataText = <T extends StoredEvent>(event: T, text: string): T =>
  Object.defineProperty(event, DATA_TEXT, { value: text, enumerable: false });

/**
 * Expected revision: `'no-stream'` (the stream must not exist), `'any'`, or the revision of the
 * stream's last event (`-1` is the same as 'no-stream').
 */
export type ExpectedRevision = number | 'no-stream' | 'any';

export interface AppendRequest {
  streamId: string;
  events: NewEvent[];
  expectedRevision: ExpectedRevision;
}

export interface AppendResult {
  /** Revision of the stream's last event after the append. */
  nextRevision: number;
  /** Global position of the last event appended (or found already stored). */
  position: number;
  /** True when every event id was already stored: nothing was written. */
  duplicate: boolean;
}

export interface ReadStreamOptions {
  fromRevision?: number;
  direction?: 'forwards' | 'backwards';
  maxCount?: number;
}

/**
 * Which events a reader wants by partition (partitions.ts): those whose record hashes into one of `owned` among
 * `count` partitions, and (with `unpartitioned`) those that belong to no record (definitions, webhooks).
 */
export interface PartitionFilter {
  count: number;
  owned: readonly number[];
  unpartitioned: boolean;
}

export interface SubscribeOptions {
  /** Deliver events with position strictly greater than this (0 or undefined: from the start). */
  fromPosition?: number;
  /** Only streams whose name starts with one of these prefixes. */
  prefixes?: readonly string[];
  /** How many events each handler call gets at most. */
  batchSize?: number;
  /** Only events of these partitions (a store with partition leases reads them alone; see partitions.ts). */
  partitions?: PartitionFilter;
}

export interface Subscription {
  stop(): Promise<void>;
  /** The last log position handled: delivered, or passed over as no event up to it was this subscription's. */
  position(): number;
  /** Resolves once the subscription has handled every event up to this position. */
  caughtUpTo(position: number, timeoutMs?: number): Promise<boolean>;
}

/**
 * What a unit of work sees: appends that commit together with the rest of the unit (on a store with
 * transactions), and reads that see the unit's own appends.
 */
export interface StoreTx {
  /**
   * The store shares work by partition (partitions.ts): writers name each event's record in its metadata
   * (`partitionKey`). Elsewhere they leave it out, and the embedded store's hot path writes nothing more.
   */
  readonly keepsPartitions?: boolean;
  append(request: AppendRequest): Promise<AppendResult>;
  readStream(streamId: string, options?: ReadStreamOptions): Promise<StoredEvent[]>;
  readAll(fromPosition: number, maxCount: number, prefixes?: readonly string[]): Promise<StoredEvent[]>;
  headPosition(): Promise<number>;
  /** Every event this unit appended so far, in position order: the objects appended, not read back. */
  readonly appended: readonly StoredEvent[];
  /** Runs after the unit committed (caches move forward only with what is durable). */
  onCommit(listener: () => void): void;
  /**
   * Runs part of the unit so that, if it throws, what it appended is undone (a nested savepoint) and
   * the error rethrown, while the rest of the unit goes on. Stores without transactions cannot undo.
   */
  attempt<T>(work: () => Promise<T>): Promise<T>;
}

export interface EventStore {
  /**
   * Runs `work` as one unit. On a store with transactions (`atomicUnits`), everything the unit
   * appends commits together or not at all, and units submitted at the same time share one commit
   * (group commit), each in its own savepoint: a unit that throws leaves nothing behind and does
   * not affect the others. Elsewhere each append is durable on its own.
   */
  unitOfWork<T>(work: (tx: StoreTx) => Promise<T>): Promise<T>;
  /** True when a unit's appends commit atomically (SQLite); false when each append stands alone (EventStoreDB). */
  readonly atomicUnits: boolean;
  /**
   * Called after each commit of this process with the events it committed, in position order,
   * before the units' promises settle (so effects can be applied before a caller is answered).
   */
  onCommitted(listener: (events: readonly StoredEvent[]) => void): () => void;
  /**
   * Appends to one stream atomically. Throws `WrongExpectedRevision` on a conflict.
   * If the first event's id is already stored in that stream, nothing is written and the result
   * says `duplicate: true` (idempotent retry of a command).
   */
  append(request: AppendRequest): Promise<AppendResult>;
  /**
   * Appends to several streams in one transaction where the store supports it (SQLite); stores
   * without multi-stream transactions append stream by stream (each append idempotent by id).
   */
  appendMany(requests: AppendRequest[]): Promise<AppendResult[]>;
  /** Events of one stream; an unknown stream gives []. */
  readStream(streamId: string, options?: ReadStreamOptions): Promise<StoredEvent[]>;
  /** Events of the global log with position > fromPosition, in order. */
  readAll(fromPosition: number, maxCount: number, prefixes?: readonly string[]): Promise<StoredEvent[]>;
  /** Position of the last event in the log (0 when empty). */
  headPosition(): Promise<number>;
  /**
   * Catch-up then live subscription. The handler is awaited before the next batch; if it throws,
   * the subscription stops and `onError` is called. Delivery resumes from `fromPosition`.
   */
  subscribe(
    handler: (events: StoredEvent[]) => Promise<void>,
    options?: SubscribeOptions & { onError?: (error: unknown) => void },
  ): Subscription;
  close(): Promise<void>;
}

/**
 * A store whose units of work run in a SQLite transaction that state kept beside the events may
 * share: what is written on `sidecar` inside a unit commits or rolls back with the unit's events.
 */
export interface SidecarStore {
  readonly sidecar: import('better-sqlite3').Database;
  /** The sidecar is the store's own database: its `events` table can be read in the same transaction. */
  readonly sidecarHoldsEvents: boolean;
}

export const sidecarOf = (store: EventStore): SidecarStore | undefined =>
  store.atomicUnits && 'sidecar' in store ? (store as EventStore & SidecarStore) : undefined;

export class WrongExpectedRevision extends Error {
  readonly code = 'STORE.WRONG_EXPECTED_REVISION';
  constructor(
    readonly streamId: string,
    readonly expected: ExpectedRevision,
    readonly actual: number,
  ) {
    super(`Stream ${streamId}: expected revision ${String(expected)}, actual ${actual}`);
    this.name = 'WrongExpectedRevision';
  }
}

export class EventIdConflict extends Error {
  readonly code = 'STORE.EVENT_ID_CONFLICT';
  constructor(
    readonly eventId: string,
    readonly streamId: string,
  ) {
    super(`Event id ${eventId} is already stored in another stream than ${streamId}`);
    this.name = 'EventIdConflict';
  }
}
