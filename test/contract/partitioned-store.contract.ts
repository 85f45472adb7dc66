import { randomUUID } from 'node:crypto';
import {
  PartitionLeaseLost,
  partitionOf,
  type EventStore,
  type NewEvent,
  type PartitionLease,
  type PartitionLeases,
  type PartitionedStore,
  type StoredEvent,
} from '@lifeline/event-store';

export type PartitionedEventStore = EventStore & PartitionedStore;

export interface PartitionedStoreCapabilities {
  /** A unit's appends commit with its checkpoint or not at all (PostgreSQL); otherwise each append stands. */
  atomicUnits: boolean;
  /**
   * Leases expire unless renewed (EventStoreDB: no session ends with a dead process); otherwise a lease lasts
   * as long as its holder's session.
   */
  expiring: boolean;
  /** The store is new for this run (no other run's events in it): what the whole log holds can be asserted. */
  fresh: boolean;
}

const event = (partitionKey: string | undefined): NewEvent => ({
  id: randomUUID(),
  type: 'Happened',
  data: {},
  metadata: {
    correlationId: 'c',
    causationId: 'c',
    actor: 'system',
    at: '2026-12-01T10:00:00.000Z',
    ...(partitionKey !== undefined ? { partitionKey } : {}),
  },
});

/** The lease, asking again until a lease left by an earlier run on a shared store has expired. */
async function acquire(leases: PartitionLeases, partition: number, owner: string): Promise<PartitionLease> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const lease = await leases.tryAcquire(partition, owner);
    if (lease) return lease;
    if (Date.now() > deadline) throw new Error(`partition ${partition} never came free`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * What every store that shares work by partition keeps (PostgreSQL, EventStoreDB): leases with epochs, fenced
 * checkpoints per partition count, reads and subscriptions by partition, and the check for records without a
 * partition key. `open` gives a new connection to the same store each time (leases are per connection);
 * `leaseTtlMs` is how long an expiring lease lasts there.
 */
export function partitionedStoreContract(
  name: string,
  open: (options: { leaseTtlMs: number }) => Promise<PartitionedEventStore>,
  capabilities: PartitionedStoreCapabilities,
  cleanup?: () => Promise<void>,
): void {
  describe(`${name} — partitioned-store contract`, () => {
    const stores: PartitionedEventStore[] = [];
    /** Partitions of this run: far from those an engine on a shared store uses, and from another run's. */
    const base = 1_000_000 + Math.floor(Math.random() * 1_000_000) * 16;
    const connect = async (leaseTtlMs = 10_000) => {
      const store = await open({ leaseTtlMs });
      stores.push(store);
      return store;
    };
    /** A checkpoint name of this test: checkpoints of other tests and runs are not its. */
    const named = (what: string) => `${what}-${randomUUID().slice(0, 8)}`;

    afterAll(async () => {
      for (const store of stores) await store.close();
      await cleanup?.();
    });

    it('one process holds a partition at a time; a take bumps the epoch; a release lets another take it', async () => {
      const a = await connect();
      const b = await connect();
      const first = await acquire(a.partitionLeases, base + 3, 'a');
      expect(first).toEqual({ partition: base + 3, epoch: expect.any(Number) as number });
      expect(await b.partitionLeases.tryAcquire(base + 3, 'b')).toBeUndefined();
      // Asking again for what it holds answers the same lease (no second take, no new epoch).
      expect(await a.partitionLeases.tryAcquire(base + 3, 'a')).toEqual(first);
      await a.partitionLeases.release(base + 3);
      const second = await b.partitionLeases.tryAcquire(base + 3, 'b');
      expect(second?.epoch).toBe(first.epoch + 1);
      await b.partitionLeases.release(base + 3);
    });

    it('of two processes asking for a free partition at once, exactly one gets it', async () => {
      const a = await connect();
      const b = await connect();
      for (let round = 0; round < 5; round++) {
        const partition = base + 10 + round;
        const got = await Promise.all([
          a.partitionLeases.tryAcquire(partition, 'a'),
          b.partitionLeases.tryAcquire(partition, 'b'),
        ]);
        expect(got.filter((lease) => lease !== undefined)).toHaveLength(1);
        if (got[0]) await a.partitionLeases.release(partition);
        else await b.partitionLeases.release(partition);
      }
    });

    it('checkpoints advance in the unit, never back, and not for a partition taken since', async () => {
      const a = await connect();
      const b = await connect();
      const work = named('work');
      const p = base + 5;
      const lease = await acquire(a.partitionLeases, p, 'a');
      await a.unitOfWork((tx) => a.partitionLeases.advance(tx, work, 12, [lease], 40));
      await a.unitOfWork((tx) => a.partitionLeases.advance(tx, work, 12, [lease], 30));
      expect(await b.partitionLeases.checkpoints(work, 12, [p, p + 1])).toEqual(
        new Map([
          [p, 40],
          [p + 1, 0],
        ]),
      );
      // B takes the partition (A's lease given up behind A's back, as when its session died or it expired).
      await a.partitionLeases.release(p);
      const taken = await b.partitionLeases.tryAcquire(p, 'b');
      expect(taken?.epoch).toBe(lease.epoch + 1);
      const stream = `entity-Order-late${randomUUID().slice(0, 8)}`;
      await expect(
        a.unitOfWork(async (tx) => {
          await tx.append({ streamId: stream, expectedRevision: 'any', events: [event('Order:late')] });
          await a.partitionLeases.advance(tx, work, 12, [lease], 99);
        }),
      ).rejects.toBeInstanceOf(PartitionLeaseLost);
      // The checkpoint is where the owner left it. The fenced unit's append is gone where units are atomic;
      // elsewhere it stands (its deterministic ids make the new owner's repeat a no-op).
      expect((await b.partitionLeases.checkpoints(work, 12, [p])).get(p)).toBe(40);
      expect(await a.readStream(stream)).toHaveLength(capabilities.atomicUnits ? 0 : 1);
      await b.unitOfWork((tx) => b.partitionLeases.advance(tx, work, 12, [taken!], 50));
      expect((await a.partitionLeases.checkpoints(work, 12, [p])).get(p)).toBe(50);
      // Two names on one partition keep their own checkpoints.
      const other = named('outbox');
      await b.unitOfWork((tx) => b.partitionLeases.advance(tx, other, 12, [taken!], 7));
      expect((await a.partitionLeases.checkpoints(work, 12, [p])).get(p)).toBe(50);
      expect((await a.partitionLeases.checkpoints(other, 12, [p])).get(p)).toBe(7);
      await b.partitionLeases.release(p);
    });

    it('a checkpoint under an old epoch is refused, and the newer lease this process took since stays whole', async () => {
      const a = await connect();
      const b = await connect();
      const work = named('work');
      const p = base + 6;
      const old = await acquire(a.partitionLeases, p, 'a');
      await a.partitionLeases.release(p);
      const current = await acquire(a.partitionLeases, p, 'a');
      expect(current.epoch).toBe(old.epoch + 1);
      await expect(a.unitOfWork((tx) => a.partitionLeases.advance(tx, work, 12, [old], 8))).rejects.toBeInstanceOf(
        PartitionLeaseLost,
      );
      await a.unitOfWork((tx) => a.partitionLeases.advance(tx, work, 12, [current], 8));
      expect((await b.partitionLeases.checkpoints(work, 12, [p])).get(p)).toBe(8);
      // Given back once, it is free at once: nothing of it was taken twice.
      await a.partitionLeases.release(p);
      expect((await b.partitionLeases.tryAcquire(p, 'b'))?.epoch).toBe(current.epoch + 1);
      await b.partitionLeases.release(p);
    });

    it('after the partition count changed, a partition starts from the lowest checkpoint of the old count (0 if one had none)', async () => {
      const a = await connect(500);
      const recount = named('recount');
      const partial = named('partial');
      const two = [await acquire(a.partitionLeases, 0, 'a'), await acquire(a.partitionLeases, 1, 'a')];
      await a.unitOfWork((tx) => a.partitionLeases.advance(tx, recount, 2, two, 70));
      await a.unitOfWork((tx) => a.partitionLeases.advance(tx, recount, 2, [two[1]!], 90));
      await a.unitOfWork((tx) => a.partitionLeases.advance(tx, partial, 2, [two[1]!], 90));
      await a.partitionLeases.release(0);
      await a.partitionLeases.release(1);
      // Each partition of 3 holds records of both old partitions: what both had done is the lowest, 70.
      expect(await a.partitionLeases.checkpoints(recount, 3, [0, 2])).toEqual(
        new Map([
          [0, 70],
          [2, 70],
        ]),
      );
      // Old partition 0 never checkpointed anything under 2: its records' work may all be ahead.
      expect((await a.partitionLeases.checkpoints(partial, 3, [1])).get(1)).toBe(0);
      // The count the checkpoints were written under still reads them as they are.
      expect((await a.partitionLeases.checkpoints(recount, 2, [0, 1])).get(1)).toBe(90);
    });

    it('reads and subscriptions by partition: the owned partitions’ events, and those of no record when asked', async () => {
      const store = await connect();
      const run = randomUUID().slice(0, 8);
      const from = await store.headPosition();
      const keys = Array.from({ length: 40 }, (_, n) => `Order:P${run}-${n}`);
      for (const key of keys) {
        await store.append({
          streamId: `entity-${key.replace(':', '-')}`,
          expectedRevision: 'any',
          events: [event(key)],
        });
      }
      await store.append({ streamId: `definition-d${run}`, expectedRevision: 'any', events: [event(undefined)] });
      const owned = [0, 2, 5];
      const mine = keys.filter((key) => owned.includes(partitionOf(key, 6)));
      expect(mine.length).toBeGreaterThan(0);
      const ours = (events: StoredEvent[]) => events.filter((e) => e.streamId.includes(run));
      const read = ours(await store.readPartitions(from, 1000, { count: 6, owned, unpartitioned: false }));
      expect(read.map((e) => e.metadata.partitionKey)).toEqual(mine);
      const withNone = ours(await store.readPartitions(from, 1000, { count: 6, owned, unpartitioned: true }));
      expect(withNone.map((e) => e.streamId).filter((s) => s === `definition-d${run}`)).toHaveLength(1);
      expect(withNone).toHaveLength(mine.length + 1);
      // A lease written meanwhile is none of a reader's events.
      const lease = await acquire(store.partitionLeases, base + 7, 'reader');
      await store.unitOfWork((tx) => store.partitionLeases.advance(tx, named('x'), 6, [lease], 1));
      const all = await store.readAll(from, 1000);
      expect(all.map((e) => e.streamId).filter((s) => !s.includes(run))).toEqual([]);

      const seen: string[] = [];
      const subscription = store.subscribe(
        async (events) => {
          for (const e of events) if (e.streamId.includes(run)) seen.push(e.metadata.partitionKey ?? e.streamId);
        },
        { fromPosition: from, partitions: { count: 6, owned, unpartitioned: false }, batchSize: 7 },
      );
      expect(await subscription.caughtUpTo(await store.headPosition(), 10_000)).toBe(true);
      await subscription.stop();
      expect(seen).toEqual(mine);
      await store.partitionLeases.release(base + 7);
    });

    it('finds the first event of a record written without a partition key (definitions need none)', async () => {
      const store = await connect();
      const run = randomUUID().slice(0, 8);
      const before = await store.headPosition();
      await store.append({
        streamId: `entity-Order-K${run}`,
        expectedRevision: 'any',
        events: [event(`Order:K${run}`)],
      });
      await store.append({ streamId: `definition-k${run}`, expectedRevision: 'any', events: [event(undefined)] });
      const none = await store.firstEventWithoutPartition();
      if (!capabilities.fresh) {
        // A shared server (other runs, other engines) is not given a record without a key: engines sharing it by
        // partition would refuse to start. What was written here is not reported.
        expect(none === undefined || none.position <= before).toBe(true);
        return;
      }
      expect(none).toBeUndefined();
      const written = await store.append({
        streamId: `instance-i${run}`,
        expectedRevision: 'any',
        events: [event(undefined)],
      });
      await store.append({ streamId: `entity-Order-L${run}`, expectedRevision: 'any', events: [event(undefined)] });
      const found = await store.firstEventWithoutPartition();
      expect(found).toEqual({ position: written.position, streamId: `instance-i${run}` });
      // Asked again (an engine restarting, past the point checked before), it still finds it.
      expect(await (await connect()).firstEventWithoutPartition()).toEqual(found);
    });

    if (capabilities.expiring) {
      it('a lease not renewed expires: another process takes it after the lease time, not before, and the old holder is fenced', async () => {
        const ttl = 400;
        const a = await connect(ttl);
        const b = await connect(ttl);
        const p = base + 20;
        const work = named('work');
        const lease = await acquire(a.partitionLeases, p, 'a');
        await a.unitOfWork((tx) => a.partitionLeases.advance(tx, work, 4, [lease], 10));
        // A stops renewing, as a process paused or cut off from the store does.
        await (a.partitionLeases as PartitionLeases & { close(): Promise<void> }).close();
        const asked = Date.now();
        expect(await b.partitionLeases.tryAcquire(p, 'b')).toBeUndefined();
        const taken = await acquire(b.partitionLeases, p, 'b');
        expect(Date.now() - asked).toBeGreaterThanOrEqual(ttl - 50);
        expect(taken.epoch).toBe(lease.epoch + 1);
        expect((await b.partitionLeases.checkpoints(work, 4, [p])).get(p)).toBe(10);
        await expect(a.unitOfWork((tx) => a.partitionLeases.advance(tx, work, 4, [lease], 20))).rejects.toBeInstanceOf(
          PartitionLeaseLost,
        );
        expect((await b.partitionLeases.checkpoints(work, 4, [p])).get(p)).toBe(10);
        await b.partitionLeases.release(p);
      });

      it('a renewed lease lasts while a contender asks all along; a holder that finds it taken reports it lost', async () => {
        // Long enough that a loaded machine's pauses (GC, 2 shared cores) never outlast it between two renewals.
        const ttl = 1_500;
        const a = await connect(ttl);
        const b = await connect(ttl);
        const p = base + 21;
        await acquire(a.partitionLeases, p, 'a');
        const lost = new Promise<readonly number[] | undefined>((resolve) =>
          a.partitionLeases.onLost((_, partitions) => resolve(partitions)),
        );
        const until = Date.now() + ttl * 3;
        while (Date.now() < until) {
          expect(await b.partitionLeases.tryAcquire(p, 'b')).toBeUndefined();
          await new Promise((resolve) => setTimeout(resolve, 40));
        }
        // A process whose lease time is far shorter than A's renewal period takes it between two renewals
        // (a misconfigured engine, or A paused): A's next renewal finds it taken and reports it.
        const c = await connect(30);
        await acquire(c.partitionLeases, p, 'c');
        expect(await lost).toEqual([p]);
        expect((a.partitionLeases as unknown as { heldPartitions(): number[] }).heldPartitions()).not.toContain(p);
        await c.partitionLeases.release(p);
      });
    }
  });
}
