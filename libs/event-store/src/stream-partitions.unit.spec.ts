import { InMemoryEventStore, PartitionedInMemoryEventStore } from './memory/in-memory-event-store';
import { PartitionLeaseLost } from './partitions';
import { StreamPartitionLeases, leaseStreamOf } from './stream-partitions';

/** Leases on the streams of a store without atomic units (as EventStoreDB), on a clock the test drives. */
describe('StreamPartitionLeases (leases on streams, fenced by expected revisions)', () => {
  let store: InMemoryEventStore;
  let now = 0;
  const ttlMs = 1_000;
  const leases = () => new StreamPartitionLeases(store, { ttlMs, now: () => now, renewInBackground: false });

  beforeEach(() => {
    store = new InMemoryEventStore({ atomicUnits: false });
    now = 0;
  });
  afterEach(() => store.close());

  it('a lease held by another is taken only once its stream has not moved for the lease time, by the taker’s clock', async () => {
    const a = leases();
    const b = leases();
    const held = (await a.tryAcquire(2, 'a'))!;
    expect(held).toEqual({ partition: 2, epoch: 1 });
    expect(await b.tryAcquire(2, 'b')).toBeUndefined();
    now += 600;
    // A renews (a third of the lease time has passed): B's watch starts again from what it sees now.
    await a.renew();
    expect(await b.tryAcquire(2, 'b')).toBeUndefined();
    now += 999;
    expect(await b.tryAcquire(2, 'b')).toBeUndefined();
    now += 1;
    expect(await b.tryAcquire(2, 'b')).toEqual({ partition: 2, epoch: 2 });
    const states = await store.readStream(leaseStreamOf(2));
    expect(states.map((e) => (e.data as { owner: string; epoch: number }).owner)).toEqual(['a', 'a', 'b']);
  });

  it('a zombie’s checkpoint is refused by the expected revision, and its next renewal reports the lease lost', async () => {
    const a = leases();
    const b = leases();
    const lease = (await a.tryAcquire(0, 'a'))!;
    await store.unitOfWork((tx) => a.advance(tx, 'reactions', 4, [lease], 10));
    expect(await b.tryAcquire(0, 'b')).toBeUndefined();
    now += ttlMs;
    // A was paused past its lease time: B takes it, A does not know yet.
    const taken = (await b.tryAcquire(0, 'b'))!;
    expect(a.heldPartitions()).toEqual([0]);
    await expect(store.unitOfWork((tx) => a.advance(tx, 'reactions', 4, [lease], 20))).rejects.toEqual(
      new PartitionLeaseLost([0]),
    );
    expect(a.heldPartitions()).toEqual([]);
    expect((await b.checkpoints('reactions', 4, [0])).get(0)).toBe(10);
    await store.unitOfWork((tx) => b.advance(tx, 'reactions', 4, [taken], 15));

    // Another zombie, found out by its renewal this time.
    const c = leases();
    const lost: (readonly number[] | undefined)[] = [];
    b.onLost((_, partitions) => lost.push(partitions));
    now += ttlMs;
    expect(await c.tryAcquire(0, 'c')).toBeUndefined();
    now += ttlMs;
    await c.tryAcquire(0, 'c');
    await b.renew();
    expect(lost).toEqual([[0]]);
    expect(b.heldPartitions()).toEqual([]);
    expect((await c.checkpoints('reactions', 4, [0])).get(0)).toBe(15);
  });

  it('a write whose answer was lost is adopted: the stream still says this holder, at this epoch', async () => {
    const a = leases();
    const lease = (await a.tryAcquire(1, 'a'))!;
    // The state lands, but the answer never comes back (a timeout): the holder's revision is one behind.
    const append = store.append.bind(store);
    let dropAnswer = true;
    const flaky = Object.create(store) as InMemoryEventStore;
    flaky.append = async (request) => {
      const result = await append(request);
      if (dropAnswer) {
        dropAnswer = false;
        throw new Error('deadline exceeded');
      }
      return result;
    };
    const b = new StreamPartitionLeases(flaky, { ttlMs, now: () => now, renewInBackground: false });
    await a.release(1);
    await expect(b.tryAcquire(1, 'b')).rejects.toThrow('deadline exceeded');
    // The lease is b's in the store: asked again, b sees its own holder and takes it again (a new epoch).
    const again = (await b.tryAcquire(1, 'b'))!;
    expect(again.epoch).toBe(lease.epoch + 2);
    // A renewal lands without its answer: b's next write expects the revision before it, finds its own
    // state there, adopts it and writes again.
    dropAnswer = true;
    const lost: unknown[] = [];
    b.onLost((error) => lost.push(error));
    now += 400;
    await b.renew();
    expect(lost).toEqual([]);
    await store.unitOfWork((tx) => b.advance(tx, 'outbox', 4, [again], 5));
    expect((await a.checkpoints('outbox', 4, [1])).get(1)).toBe(5);
    const states = (await store.readStream(leaseStreamOf(1))).map((e) => e.data as { owner: string; epoch: number });
    expect(states.map((state) => `${state.owner ?? '-'}@${state.epoch}`)).toEqual([
      'a@1',
      '-@1',
      'b@2',
      'b@3',
      'b@3',
      'b@3',
    ]);
  });

  it('each take bumps the epoch; checkpoints of every name and count survive takes and releases', async () => {
    const a = leases();
    const b = leases();
    const first = (await a.tryAcquire(3, 'a'))!;
    await store.unitOfWork((tx) => a.advance(tx, 'reactions', 4, [first], 7));
    await store.unitOfWork((tx) => a.advance(tx, 'outbox', 4, [first], 6));
    await a.release(3);
    const second = (await b.tryAcquire(3, 'b'))!;
    expect(second.epoch).toBe(2);
    expect(await b.checkpoints('reactions', 4, [3])).toEqual(new Map([[3, 7]]));
    expect(await b.checkpoints('outbox', 4, [3])).toEqual(new Map([[3, 6]]));
    // A release by a process that no longer holds the lease changes nothing.
    await a.release(3);
    expect(b.heldPartitions()).toEqual([3]);
    await expect(store.unitOfWork((tx) => b.advance(tx, 'reactions', 4, [second], 9))).resolves.toBeUndefined();
  });

  it('a renewal due while a unit waits to checkpoint does not wait for that unit (the in-memory store’s queue)', async () => {
    const partitioned = new PartitionedInMemoryEventStore({ ttlMs, now: () => now, renewInBackground: false });
    try {
      const lease = (await partitioned.partitionLeases.tryAcquire(0, 'a'))!;
      let open!: () => void;
      const gate = new Promise<void>((resolve) => (open = resolve));
      const unit = partitioned.unitOfWork(async (tx) => {
        await gate;
        await partitioned.partitionLeases.advance(tx, 'reactions', 4, [lease], 3);
      });
      now += ttlMs / 2;
      // The renewal takes the partition's turn first; the unit's checkpoint waits for it, not the other way round.
      const renewal = partitioned.partitionLeases.renew();
      await new Promise((resolve) => setImmediate(resolve));
      open();
      await Promise.all([unit, renewal]);
      expect((await partitioned.partitionLeases.checkpoints('reactions', 4, [0])).get(0)).toBe(3);
    } finally {
      await partitioned.close();
    }
  }, 5_000);

  it('a lease stream holding what this code did not write is read as far as it is valid, never thrown on', async () => {
    const meta = { correlationId: 'c', causationId: 'c', actor: 'someone', at: '2026-12-01T10:00:00.000Z' };
    const write = (streamId: string, data: unknown) =>
      store.append({
        streamId,
        expectedRevision: 'any',
        events: [{ id: `junk-${Math.random()}`, type: 'X', data, metadata: meta }],
      });
    await write(leaseStreamOf(6), 'not an object');
    await write(leaseStreamOf(7), {
      holder: 42,
      epoch: -3,
      checkpoints: { 4: { reactions: 'far', outbox: 9 }, 5: null },
    });
    await write('lifeline.partition-counts', { counts: 'all of them' });
    const a = leases();
    expect(await a.checkpoints('outbox', 4, [6, 7])).toEqual(
      new Map([
        [6, 0],
        [7, 9],
      ]),
    );
    // No valid holder: the leases are free, their epochs start again from what is valid.
    expect(await a.tryAcquire(6, 'a')).toEqual({ partition: 6, epoch: 1 });
    expect(await a.tryAcquire(7, 'a')).toEqual({ partition: 7, epoch: 1 });
    expect((await a.checkpoints('reactions', 4, [7])).get(7)).toBe(0);
  });

  it('a release the store did not take keeps the lease, so the next attempt gives it back', async () => {
    const append = store.append.bind(store);
    let down = false;
    const flaky = Object.create(store) as InMemoryEventStore;
    flaky.append = async (request) => {
      if (down) throw new Error('connection refused');
      return append(request);
    };
    const a = new StreamPartitionLeases(flaky, { ttlMs, now: () => now, renewInBackground: false });
    const b = leases();
    await a.tryAcquire(4, 'a');
    down = true;
    await expect(a.release(4)).rejects.toThrow('connection refused');
    expect(a.heldPartitions()).toEqual([4]);
    down = false;
    await a.release(4);
    expect(a.heldPartitions()).toEqual([]);
    // Given back: another process takes it at once, without waiting for it to expire.
    expect(await b.tryAcquire(4, 'b')).toEqual({ partition: 4, epoch: 2 });
  });

  it('a checkpoint under an old epoch is refused without dropping the newer lease this process took since', async () => {
    const a = leases();
    const old = (await a.tryAcquire(5, 'a'))!;
    await a.release(5);
    const current = (await a.tryAcquire(5, 'a'))!;
    expect(current.epoch).toBe(old.epoch + 1);
    await expect(store.unitOfWork((tx) => a.advance(tx, 'reactions', 4, [old], 8))).rejects.toEqual(
      new PartitionLeaseLost([5]),
    );
    expect(a.heldPartitions()).toEqual([5]);
    await store.unitOfWork((tx) => a.advance(tx, 'reactions', 4, [current], 8));
    expect((await a.checkpoints('reactions', 4, [5])).get(5)).toBe(8);
  });

  it('refuses what is not a partition, and a lease time too short to renew', async () => {
    const a = leases();
    for (const bad of [-1, 1.5, Number.NaN, 2 ** 31]) {
      await expect(a.tryAcquire(bad, 'a')).rejects.toThrow(RangeError);
    }
    expect(() => new StreamPartitionLeases(store, { ttlMs: 10 })).toThrow('A lease lasts 30 ms at least, not 10');
  });
});
