import { randomUUID } from 'node:crypto';
import {
  WrongExpectedRevision,
  type AppendResult,
  type EventStore,
  type PartitionFilter,
  type StoreTx,
  type StoredEvent,
} from './event-store';
import { PartitionLeaseLost, partitionOfEvent, type PartitionLease, type PartitionLeases } from './partitions';

/**
 * Ownership by partition on a store without sessions or transactions (EventStoreDB): leases and checkpoints kept
 * in streams of the store itself, fenced by expected revisions (docs/decisions/0013-ownership-by-partition.md).
 */

/**
 * Streams the store keeps for itself (leases, checkpoints, markers): never part of the log a reader sees
 * (`readAll`, subscriptions, the head), so no projection, reactor or audit meets them.
 */
export const INTERNAL_STREAM_PREFIX = 'lifeline.';

export const isInternalStream = (streamId: string): boolean => streamId.startsWith(INTERNAL_STREAM_PREFIX);

/** Whether a reader with this filter wants the event (every event without a filter). */
export function partitionWants(filter: PartitionFilter | undefined, event: StoredEvent): boolean {
  if (filter === undefined) return true;
  const partition = partitionOfEvent(event.metadata, filter.count);
  return partition === undefined ? filter.unpartitioned : filter.owned.includes(partition);
}

/** Streams whose events belong to a record, so must name it for ownership by partition. */
const RECORD_STREAM_PREFIXES = ['entity-', 'instance-'];

export const isRecordStream = (streamId: string): boolean => RECORD_STREAM_PREFIXES.some((p) => streamId.startsWith(p));

const LEASE_EVENT = 'PartitionLeaseState';
const COUNTS_EVENT = 'PartitionCountsUsed';
const CHECKED_EVENT = 'PartitionKeysChecked';
export const leaseStreamOf = (partition: number): string => `${INTERNAL_STREAM_PREFIX}partition-${partition}`;
const COUNTS_STREAM = `${INTERNAL_STREAM_PREFIX}partition-counts`;
const CHECKED_STREAM = `${INTERNAL_STREAM_PREFIX}partition-keys-checked`;

/** What one lease stream's last event says: its holder (none once released), epoch and checkpoints. */
interface LeaseState {
  /** The process that holds it, as it names itself (`host:pid`), or null. */
  owner: string | null;
  /** The holding instance: unique per process start, so a restarted process with the same pid is another. */
  holder: string | null;
  /** Bumped by each take. */
  epoch: number;
  /** Per partition count, per name: the last position whose work is done. */
  checkpoints: Record<string, Record<string, number>>;
}

interface Held {
  lease: PartitionLease;
  state: LeaseState;
  /** The stream revision of the last state this process wrote or saw as its own. */
  revision: number;
  /** When this process last wrote the state (its monotonic clock). */
  writtenAt: number;
}

export interface StreamPartitionLeasesOptions {
  /**
   * How long a lease lasts without being renewed, on the clock of the process that wants it: a holder renews
   * every third of it, and a contender takes a lease whose stream has not moved for that long. It is how long
   * the partitions of a process that died stay without an owner.
   */
  ttlMs: number;
  /** Called once per lease stream before this process first writes it (EventStoreDB: cap its length). */
  prepareStream?: (streamId: string) => Promise<void>;
  /** A monotonic clock in ms (tests drive it). */
  now?: () => number;
  /** Set false to renew only when `renew()` is called (tests). */
  renewInBackground?: boolean;
}

/**
 * Partition leases on streams of the store (EventStoreDB has neither sessions nor multi-stream transactions).
 * Each partition has a stream whose last event is the whole lease: holder, epoch and checkpoints. Every write is
 * an append at the revision this process last saw, so of two writers one fails (WrongExpectedRevision) and
 * learns the other took the lease: a zombie cannot move a checkpoint of a partition it lost.
 *
 * A lease expires without a session to end it: the holder renews it every `ttlMs / 3`; a contender takes it
 * once its stream has not moved for `ttlMs` by the contender's own clock (no clocks are compared across hosts).
 * The work itself is not fenced: on a store whose units are not atomic, a zombie's appends stand, and the
 * deterministic event ids make a repeat a no-op. What the fence guarantees is that checkpoints only move under
 * the holder that did the work, so a take-over starts from work that was done.
 */
export class StreamPartitionLeases implements PartitionLeases {
  private readonly held = new Map<number, Held>();
  /** A contender's view of a lease held by another: the revision it saw and since when. */
  private readonly observed = new Map<number, { revision: number; since: number }>();
  /** One write per partition at a time, in order: the revision each one expects is the previous one's. */
  private readonly locks = new Map<number, Promise<unknown>>();
  private readonly prepared = new Set<string>();
  private readonly counts = new Set<number>();
  private readonly lostListeners: ((error: unknown, partitions?: readonly number[]) => void)[] = [];
  private readonly instance = randomUUID();
  private readonly now: () => number;
  private renewTimer: NodeJS.Timeout | undefined;
  private renewing: Promise<void> | undefined;
  private closed = false;

  constructor(
    private readonly store: Pick<EventStore, 'append' | 'readStream'>,
    private readonly options: StreamPartitionLeasesOptions,
  ) {
    if (!(options.ttlMs >= 30)) throw new RangeError(`A lease lasts 30 ms at least, not ${options.ttlMs}`);
    this.now = options.now ?? (() => performance.now());
  }

  async tryAcquire(partition: number, owner: string): Promise<PartitionLease | undefined> {
    checkPartition(partition);
    this.assertOpen();
    const existing = this.held.get(partition);
    if (existing) return existing.lease;
    return this.locked(partition, async () => {
      const last = await this.readLast(partition);
      if (last !== undefined && !this.free(partition, last.state, last.revision)) return undefined;
      const epoch = (last?.state.epoch ?? 0) + 1;
      const state: LeaseState = { owner, holder: this.instance, epoch, checkpoints: last?.state.checkpoints ?? {} };
      const revision = await this.write(partition, last?.revision ?? -1, state);
      if (revision === undefined) return undefined;
      this.observed.delete(partition);
      const lease = { partition, epoch };
      this.held.set(partition, { lease, state, revision, writtenAt: this.now() });
      this.scheduleRenewal();
      return lease;
    });
  }

  async release(partition: number): Promise<void> {
    if (!this.held.has(partition)) return;
    await this.locked(partition, async () => {
      const held = this.held.get(partition);
      if (!held) return;
      // A lease taken meanwhile by another process is theirs: nothing to give back. A write that fails (the store
      // out of reach) keeps the lease held and renewed, so the caller's next attempt gives it back.
      await this.write(partition, held.revision, { ...held.state, owner: null, holder: null });
      this.held.delete(partition);
    });
  }

  async checkpoints(name: string, count: number, partitions: readonly number[]): Promise<Map<number, number>> {
    const found = new Map<number, number>();
    const states = await this.statesOf(partitions);
    const missing: number[] = [];
    for (const partition of partitions) {
      const position = states.get(partition)?.checkpoints[count]?.[name];
      if (position === undefined) missing.push(partition);
      else found.set(partition, position);
    }
    if (missing.length === 0) return found;
    // Under another count where `name` was checkpointed, every partition must have a checkpoint for its lowest to
    // say where all the work is done: one without any had no work done at all, so that count's lowest is 0.
    let fallback: number | undefined;
    for (const other of await this.countsUsed()) {
      if (other === count) continue;
      const all = await this.statesOf(Array.from({ length: other }, (_, p) => p));
      const stored = [...all.values()].map((state) => state.checkpoints[other]?.[name]).filter((p) => p !== undefined);
      if (stored.length === 0) continue;
      const lowest = stored.length < other ? 0 : Math.min(...stored);
      fallback = Math.min(fallback ?? lowest, lowest);
    }
    for (const partition of missing) found.set(partition, fallback ?? 0);
    return found;
  }

  async advance(
    tx: StoreTx,
    name: string,
    count: number,
    leases: readonly PartitionLease[],
    position: number,
  ): Promise<void> {
    if (leases.length === 0) return;
    await this.registerCount(tx, count);
    const lost: number[] = [];
    await Promise.all(
      leases.map(async ({ partition, epoch }) => {
        const kept = await this.locked(partition, async () => {
          const held = this.held.get(partition);
          if (held === undefined || held.lease.epoch !== epoch) return false;
          const at = held.state.checkpoints[count]?.[name] ?? 0;
          if (position <= at) return this.stillHeld(tx, partition, held);
          const state = checkpointed(held.state, count, name, position);
          return this.writeHeld(tx, partition, held, state);
        });
        if (!kept) lost.push(partition);
      }),
    );
    if (lost.length === 0) return;
    lost.sort((a, b) => a - b);
    // Only the lease the caller named is gone: a newer one this process took since stays.
    for (const { partition, epoch } of leases) {
      if (lost.includes(partition) && this.held.get(partition)?.lease.epoch === epoch) this.held.delete(partition);
    }
    throw new PartitionLeaseLost(lost);
  }

  onLost(listener: (error: unknown, partitions?: readonly number[]) => void): void {
    this.lostListeners.push(listener);
  }

  heldPartitions(): number[] {
    return [...this.held.keys()].sort((a, b) => a - b);
  }

  /** Renews every lease held that was not written for a third of its time; a lease found taken is reported lost. */
  renew(): Promise<void> {
    this.renewing ??= this.renewNow().finally(() => (this.renewing = undefined));
    return this.renewing;
  }

  /**
   * Stops renewing. The leases still held are not given back (ownership releases them first, once their work
   * stopped); they expire.
   */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.renewTimer);
    await this.renewing;
    this.held.clear();
  }

  /** Whether a stream's last state lets this process take the lease. */
  private free(partition: number, state: LeaseState, revision: number): boolean {
    if (state.holder === null || state.holder === this.instance) return true;
    const seen = this.observed.get(partition);
    const now = this.now();
    if (seen === undefined || seen.revision !== revision) {
      this.observed.set(partition, { revision, since: now });
      return false;
    }
    return now - seen.since >= this.options.ttlMs;
  }

  private async renewNow(): Promise<void> {
    const due = [...this.held].filter(([, held]) => this.now() - held.writtenAt >= this.options.ttlMs / 3);
    const lost: number[] = [];
    let failure: unknown;
    await Promise.all(
      due.map(async ([partition, held]) => {
        try {
          const kept = await this.locked(partition, async () =>
            this.held.get(partition) === held ? this.writeHeld(undefined, partition, held, held.state) : true,
          );
          if (!kept) lost.push(partition);
        } catch (error) {
          // The store is out of reach: past its time the lease is another process's to take, so not this one's.
          failure = error;
          if (this.now() - held.writtenAt >= this.options.ttlMs) lost.push(partition);
        }
      }),
    );
    if (lost.length === 0) return;
    for (const partition of lost) this.held.delete(partition);
    lost.sort((a, b) => a - b);
    const error = failure ?? new PartitionLeaseLost(lost);
    for (const listener of this.lostListeners) listener(error, lost);
  }

  private scheduleRenewal(): void {
    if (this.options.renewInBackground === false || this.renewTimer !== undefined || this.closed) return;
    const tick = (): void => {
      this.renewTimer = undefined;
      if (this.closed || this.held.size === 0) return;
      void this.renew()
        .catch(() => undefined)
        .finally(() => this.scheduleRenewal());
    };
    this.renewTimer = setTimeout(tick, Math.max(10, Math.floor(this.options.ttlMs / 6)));
    this.renewTimer.unref();
  }

  /** Writes a new state for a lease this process holds; false when another process took it. */
  private async writeHeld(tx: StoreTx | undefined, partition: number, held: Held, state: LeaseState): Promise<boolean> {
    for (let attempt = 0; attempt < 2; attempt++) {
      const revision = await this.write(partition, held.revision, state, tx);
      if (revision !== undefined) {
        held.state = state;
        held.revision = revision;
        held.writtenAt = this.now();
        return true;
      }
      // An earlier write of ours may have landed without its answer reaching us: the stream then still says us.
      if (!(await this.stillHeld(tx, partition, held))) return false;
    }
    return false;
  }

  /** Whether the stream still has this process's lease at the epoch it holds (adopting its latest revision). */
  private async stillHeld(tx: StoreTx | undefined, partition: number, held: Held): Promise<boolean> {
    const last = await this.readLast(partition, tx);
    if (last === undefined || last.state.holder !== this.instance || last.state.epoch !== held.lease.epoch)
      return false;
    held.revision = last.revision;
    held.state = last.state;
    return true;
  }

  /** Appends a state at `expected` (-1: a new stream); the new revision, or undefined when the stream moved on. */
  private async write(
    partition: number,
    expected: number,
    state: LeaseState,
    tx?: StoreTx,
  ): Promise<number | undefined> {
    const streamId = leaseStreamOf(partition);
    await this.prepare(streamId);
    try {
      const result = await appendInternal(tx ?? this.store, streamId, expected, LEASE_EVENT, state, this.instance);
      return result.nextRevision;
    } catch (error) {
      if (error instanceof WrongExpectedRevision) return undefined;
      throw error;
    }
  }

  private async readLast(
    partition: number,
    tx?: StoreTx,
  ): Promise<{ state: LeaseState; revision: number } | undefined> {
    const [last] = await (tx ?? this.store).readStream(leaseStreamOf(partition), {
      direction: 'backwards',
      maxCount: 1,
    });
    return last && { state: leaseStateOf(last.data), revision: last.revision };
  }

  private async statesOf(partitions: readonly number[]): Promise<Map<number, LeaseState>> {
    const states = new Map<number, LeaseState>();
    await Promise.all(
      partitions.map(async (partition) => {
        const last = await this.readLast(partition);
        if (last) states.set(partition, last.state);
      }),
    );
    return states;
  }

  /** Every partition count checkpoints were written under (a stream of its own: a count's partitions may be new). */
  private async countsUsed(): Promise<number[]> {
    const [last] = await this.store.readStream(COUNTS_STREAM, { direction: 'backwards', maxCount: 1 });
    return countsOf(last?.data);
  }

  private async registerCount(tx: StoreTx, count: number): Promise<void> {
    if (this.counts.has(count)) return;
    for (;;) {
      const [last] = await tx.readStream(COUNTS_STREAM, { direction: 'backwards', maxCount: 1 });
      const counts = countsOf(last?.data);
      if (counts.includes(count)) break;
      try {
        const data = { counts: [...counts, count].sort((a, b) => a - b) };
        await appendInternal(tx, COUNTS_STREAM, last?.revision ?? -1, COUNTS_EVENT, data, this.instance);
        break;
      } catch (error) {
        if (!(error instanceof WrongExpectedRevision)) throw error;
      }
    }
    this.counts.add(count);
  }

  private async prepare(streamId: string): Promise<void> {
    if (!this.options.prepareStream || this.prepared.has(streamId)) return;
    await this.options.prepareStream(streamId);
    this.prepared.add(streamId);
  }

  private locked<T>(partition: number, work: () => Promise<T>): Promise<T> {
    const run = (this.locks.get(partition) ?? Promise.resolve()).then(work);
    const settled = run.catch(() => undefined);
    this.locks.set(partition, settled);
    void settled.then(() => {
      if (this.locks.get(partition) === settled) this.locks.delete(partition);
    });
    return run;
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('The partition leases are closed');
  }
}

/**
 * A lease stream's last event as a state. What this code did not write (a hand-edited or foreign event) is read as
 * far as it is valid: no holder is a free lease, a bad epoch is 0, checkpoints that are not positions are none.
 */
function leaseStateOf(data: unknown): LeaseState {
  const raw = (typeof data === 'object' && data !== null ? data : {}) as Record<string, unknown>;
  const text = (value: unknown) => (typeof value === 'string' ? value : null);
  const epoch = Number.isSafeInteger(raw.epoch) && (raw.epoch as number) >= 0 ? (raw.epoch as number) : 0;
  const checkpoints: LeaseState['checkpoints'] = {};
  const byCount = typeof raw.checkpoints === 'object' && raw.checkpoints !== null ? raw.checkpoints : {};
  for (const [count, names] of Object.entries(byCount as Record<string, unknown>)) {
    if (typeof names !== 'object' || names === null) continue;
    for (const [name, position] of Object.entries(names as Record<string, unknown>)) {
      if (Number.isSafeInteger(position) && (position as number) >= 0) {
        (checkpoints[count] ??= {})[name] = position as number;
      }
    }
  }
  const holder = text(raw.holder);
  return { owner: holder === null ? null : text(raw.owner), holder, epoch, checkpoints };
}

function countsOf(data: unknown): number[] {
  const counts = (data as { counts?: unknown } | undefined)?.counts;
  return Array.isArray(counts) ? counts.filter((c): c is number => Number.isInteger(c) && c > 0) : [];
}

/** One event of a stream the store keeps for itself, appended at `expected` (-1: a new stream), by `by`. */
function appendInternal(
  store: Pick<EventStore, 'append'>,
  streamId: string,
  expected: number,
  type: string,
  data: unknown,
  by: string,
): Promise<AppendResult> {
  const metadata = { correlationId: by, causationId: by, actor: 'lifeline-engine', at: new Date().toISOString() };
  return store.append({ streamId, expectedRevision: expected, events: [{ id: randomUUID(), type, data, metadata }] });
}

function checkpointed(state: LeaseState, count: number, name: string, position: number): LeaseState {
  return {
    ...state,
    checkpoints: { ...state.checkpoints, [count]: { ...state.checkpoints[count], [name]: position } },
  };
}

function checkPartition(partition: number): void {
  if (!Number.isInteger(partition) || partition < 0 || partition > 0x7fffffff) {
    throw new RangeError(`A partition is an integer from 0, not ${partition}`);
  }
}

/**
 * Where a store that keeps no partition column (EventStoreDB) checked that every record event names its record:
 * the next check reads the log from there, not from the start.
 */
export class PartitionKeyCheck {
  constructor(
    private readonly store: Pick<EventStore, 'append' | 'readStream'>,
    private readonly scan: (
      fromPosition: number,
      found: (event: StoredEvent) => boolean,
    ) => Promise<{ event?: StoredEvent; upTo: number }>,
  ) {}

  async firstEventWithoutPartition(): Promise<{ position: number; streamId: string } | undefined> {
    const [last] = await this.store.readStream(CHECKED_STREAM, { direction: 'backwards', maxCount: 1 });
    const upToBefore = (last?.data as { upTo?: unknown } | undefined)?.upTo;
    const from = Number.isSafeInteger(upToBefore) && (upToBefore as number) > 0 ? (upToBefore as number) : 0;
    const { event, upTo } = await this.scan(
      from,
      (e) => isRecordStream(e.streamId) && e.metadata.partitionKey === undefined,
    );
    if (event) return { position: event.position, streamId: event.streamId };
    if (upTo > from) {
      await appendInternal(this.store, CHECKED_STREAM, last?.revision ?? -1, CHECKED_EVENT, { upTo }, 'lifeline')
        // Another engine checked at the same time: its marker will do.
        .catch((error: unknown) => {
          if (!(error instanceof WrongExpectedRevision)) throw error;
        });
    }
    return undefined;
  }
}
