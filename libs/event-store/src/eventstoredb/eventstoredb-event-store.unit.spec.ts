import { EventEmitter } from 'node:events';
import { WrongExpectedVersionError, type EventStoreDBClient } from '@eventstore/db-client';
import type { NewEvent, StoredEvent } from '../event-store';
import { partitionOf } from '../partitions';
import { leaseStreamOf } from '../stream-partitions';
import { EventStoreDbEventStore } from './eventstoredb-event-store';

/**
 * What the EventStoreDB adapter does on the client side for ownership by partition, over a client that answers
 * from memory as the server would (no server can run here; the contracts run on a real one where EVENTSTORE_URL
 * is set): the streams it keeps for itself are no reader's, reads and subscriptions pass over other partitions'
 * events, leases go through expected revisions, and a lease stream is capped once.
 */

interface Recorded {
  id: string;
  type: string;
  streamId: string;
  revision: bigint;
  position: { commit: bigint; prepare: bigint };
  isJson: true;
  data: unknown;
  metadata: unknown;
}

type Position = 'start' | 'end' | { commit: bigint; prepare: bigint };

/** The calls of @eventstore/db-client the adapter makes, answered from memory with the server's semantics. */
class MemoryClient {
  readonly all: Recorded[] = [];
  readonly maxCounts = new Map<string, number>();
  readonly live = new Set<{ emit(e: Recorded): void }>();
  metadataCalls = 0;
  refuseMetadata = false;

  private stream(streamId: string): Recorded[] {
    const events = this.all.filter((e) => e.streamId === streamId);
    const max = this.maxCounts.get(streamId);
    return max === undefined ? events : events.slice(-max);
  }

  async appendToStream(
    streamId: string,
    events: { id: string; type: string; data: unknown; metadata: unknown }[],
    options: { expectedRevision: bigint | 'no_stream' | 'any' },
  ) {
    const all = this.all.filter((e) => e.streamId === streamId);
    const current = all.length === 0 ? 'no_stream' : all.at(-1)!.revision;
    const expected = options.expectedRevision;
    if (expected !== 'any' && expected !== current) {
      throw new WrongExpectedVersionError(undefined, { streamName: streamId, expected, current });
    }
    let revision = all.length === 0 ? -1n : all.at(-1)!.revision;
    let position = { commit: 0n, prepare: 0n };
    for (const event of events) {
      revision++;
      const at = BigInt((this.all.length + 1) * 100);
      position = { commit: at, prepare: at };
      const recorded: Recorded = { ...event, streamId, revision, position, isJson: true };
      this.all.push(recorded);
      for (const subscriber of this.live) subscriber.emit(recorded);
    }
    return { success: true, nextExpectedRevision: revision, position };
  }

  readStream(
    streamId: string,
    options: { direction: string; fromRevision: bigint | 'start' | 'end'; maxCount: number },
  ) {
    let events = this.stream(streamId);
    const from = options.fromRevision;
    if (options.direction === 'backwards') {
      events = [...events].reverse();
      if (typeof from === 'bigint') events = events.filter((e) => e.revision <= from);
    } else if (typeof from === 'bigint') {
      events = events.filter((e) => e.revision >= from);
    }
    return iterate(events.slice(0, Number(options.maxCount)));
  }

  readAll(options: { direction: string; fromPosition: Position; maxCount: number }) {
    let events = [...this.all];
    if (options.direction === 'backwards') {
      events.reverse();
      const from = options.fromPosition;
      if (typeof from === 'object') events = events.filter((e) => e.position.commit <= from.commit);
    } else {
      const from = options.fromPosition;
      if (typeof from === 'object') events = events.filter((e) => e.position.commit >= from.commit);
    }
    return iterate(events.slice(0, options.maxCount));
  }

  subscribeToAll(options: {
    fromPosition: Position;
    filter: { filterOn: string; prefixes?: string[]; regex?: string };
  }) {
    const stream = new EventEmitter() as EventEmitter & {
      unsubscribe(): Promise<void>;
      pause(): void;
      resume(): void;
    };
    const from = options.fromPosition;
    const wanted = (e: Recorded) =>
      options.filter.filterOn === 'streamName'
        ? (options.filter.prefixes ?? []).some((p) => e.streamId.startsWith(p))
        : !e.type.startsWith('$');
    const subscriber = {
      emit: (e: Recorded) => {
        if (wanted(e)) stream.emit('data', { event: e });
      },
    };
    stream.unsubscribe = async () => void this.live.delete(subscriber);
    stream.pause = () => undefined;
    stream.resume = () => undefined;
    setImmediate(() => {
      for (const e of this.all) if (typeof from !== 'object' || e.position.commit > from.commit) subscriber.emit(e);
      this.live.add(subscriber);
      stream.emit('caughtUp');
    });
    return stream;
  }

  async setStreamMetadata(streamId: string, metadata: { maxCount?: number }) {
    this.metadataCalls++;
    if (this.refuseMetadata) throw new Error('access denied');
    if (metadata.maxCount !== undefined) this.maxCounts.set(streamId, metadata.maxCount);
    return { success: true };
  }

  async dispose() {}
}

function iterate(events: Recorded[]) {
  return {
    async *[Symbol.asyncIterator]() {
      for (const event of events) yield { event };
    },
    async cancel() {},
  };
}

const event = (id: string, partitionKey?: string): NewEvent => ({
  id,
  type: 'Happened',
  data: { id },
  metadata: {
    correlationId: 'c',
    causationId: 'c',
    actor: 'system',
    at: '2026-12-01T10:00:00.000Z',
    ...(partitionKey === undefined ? {} : { partitionKey }),
  },
});

describe('EventStoreDbEventStore: ownership by partition on the client side', () => {
  let client: MemoryClient;
  let store: EventStoreDbEventStore;
  const keys = Array.from({ length: 24 }, (_, n) => `Order:O-${n}`);

  beforeEach(async () => {
    client = new MemoryClient();
    store = EventStoreDbEventStore.withClient(client as unknown as EventStoreDBClient, { leaseTtlMs: 5_000 });
    for (const key of keys) {
      await store.append({
        streamId: `entity-${key.replace(':', '-')}`,
        expectedRevision: 'no-stream',
        events: [event(`e-${key}`, key)],
      });
    }
    await store.append({ streamId: 'definition-d', expectedRevision: 'no-stream', events: [event('def')] });
  });
  afterEach(() => store.close());

  it('keeps its leases in streams of its own, capped once, that no read, subscription or head sees', async () => {
    const before = await store.headPosition();
    const lease = (await store.partitionLeases.tryAcquire(3, 'engine-a'))!;
    await store.unitOfWork((tx) => store.partitionLeases.advance(tx, 'reactions', 6, [lease], before));
    await store.unitOfWork((tx) => store.partitionLeases.advance(tx, 'outbox', 6, [lease], before));
    expect(client.all.filter((e) => e.streamId === leaseStreamOf(3))).toHaveLength(3);
    expect(client.maxCounts.get(leaseStreamOf(3))).toBe(16);
    // The counts stream is capped by no one: one event per partition count ever used.
    expect(client.metadataCalls).toBe(1);
    expect(await store.headPosition()).toBe(before);
    const all = await store.readAll(0, 1000);
    expect(all.map((e) => e.streamId).filter((s) => s.startsWith('lifeline.'))).toEqual([]);
    expect(all).toHaveLength(keys.length + 1);
    expect((await store.partitionLeases.checkpoints('reactions', 6, [3])).get(3)).toBe(before);
  });

  it('a lease another process holds is not taken; its checkpoint write is refused by the expected revision', async () => {
    const other = EventStoreDbEventStore.withClient(client as unknown as EventStoreDBClient, { leaseTtlMs: 5_000 });
    const lease = (await store.partitionLeases.tryAcquire(1, 'a'))!;
    expect(await other.partitionLeases.tryAcquire(1, 'b')).toBeUndefined();
    // Behind A's back, the lease is given up and B takes it (as after an expiry).
    await store.partitionLeases.release(1);
    const taken = (await other.partitionLeases.tryAcquire(1, 'b'))!;
    expect(taken.epoch).toBe(lease.epoch + 1);
    await expect(
      store.unitOfWork((tx) => store.partitionLeases.advance(tx, 'reactions', 6, [lease], 5)),
    ).rejects.toMatchObject({ code: 'STORE.PARTITION_LEASE_LOST', partitions: [1] });
    await other.close();
  });

  it('a server that refuses the cap still keeps the leases', async () => {
    client.refuseMetadata = true;
    expect(await store.partitionLeases.tryAcquire(4, 'a')).toEqual({ partition: 4, epoch: 1 });
    expect(client.maxCounts.size).toBe(0);
  });

  it('reads by partition: the owned partitions’ events, and those of no record when asked', async () => {
    const owned = [0, 4];
    const mine = keys.filter((key) => owned.includes(partitionOf(key, 6)));
    expect(mine.length).toBeGreaterThan(0);
    await store.partitionLeases.tryAcquire(2, 'a');
    const read = await store.readPartitions(0, 1000, { count: 6, owned, unpartitioned: false });
    expect(read.map((e) => e.metadata.partitionKey)).toEqual(mine);
    const withNone = await store.readPartitions(0, 1000, { count: 6, owned, unpartitioned: true });
    expect(withNone.map((e) => e.streamId)).toEqual([
      ...mine.map((k) => `entity-${k.replace(':', '-')}`),
      'definition-d',
    ]);
    expect(await store.readPartitions(0, 2, { count: 6, owned, unpartitioned: true })).toHaveLength(2);
  });

  it('a subscription by partition delivers its own events, passes over the rest and the leases, and says how far it is', async () => {
    const owned = [1, 5];
    const mine = keys.filter((key) => owned.includes(partitionOf(key, 6)));
    const seen: StoredEvent[] = [];
    const subscription = store.subscribe(
      async (events) => {
        seen.push(...events);
      },
      { partitions: { count: 6, owned, unpartitioned: false }, batchSize: 3 },
    );
    const head = await store.headPosition();
    expect(await subscription.caughtUpTo(head, 2_000)).toBe(true);
    expect(seen.map((e) => e.metadata.partitionKey)).toEqual(mine);
    // Live: another partition's event and a lease write move the position, only its own event is delivered.
    const lease = (await store.partitionLeases.tryAcquire(0, 'a'))!;
    const theirs = keys.find((key) => !owned.includes(partitionOf(key, 6)))!;
    const ours = keys.find((key) => owned.includes(partitionOf(key, 6)))!;
    await store.append({ streamId: 'entity-x', expectedRevision: 'any', events: [event('x1', theirs)] });
    await store.unitOfWork((tx) => store.partitionLeases.advance(tx, 'r', 6, [lease], 1));
    const last = await store.append({ streamId: 'entity-y', expectedRevision: 'any', events: [event('y1', ours)] });
    expect(await subscription.caughtUpTo(last.position, 2_000)).toBe(true);
    const leaseWrite = Number(client.all.at(-1)!.position.commit);
    await store.partitionLeases.release(0);
    expect(await subscription.caughtUpTo(Number(client.all.at(-1)!.position.commit), 2_000)).toBe(true);
    expect(subscription.position()).toBeGreaterThan(leaseWrite);
    expect(seen.map((e) => e.id)).toEqual([...mine.map((k) => `e-${k}`), 'y1']);
    await subscription.stop();
  });

  it('finds a record event without a partition key, and after a clean check reads only what came after', async () => {
    expect(await store.firstEventWithoutPartition()).toBeUndefined();
    const marker = client.all.filter((e) => e.streamId === 'lifeline.partition-keys-checked');
    expect(marker).toHaveLength(1);
    const written = await store.append({
      streamId: 'instance-i1',
      expectedRevision: 'no-stream',
      events: [event('old-1')],
    });
    expect(await store.firstEventWithoutPartition()).toEqual({ position: written.position, streamId: 'instance-i1' });
    expect(await store.firstEventWithoutPartition()).toEqual({ position: written.position, streamId: 'instance-i1' });
  });

  it('names each event’s record in a unit: its units keep partitions', async () => {
    expect(await store.unitOfWork(async (tx) => tx.keepsPartitions)).toBe(true);
  });
});
