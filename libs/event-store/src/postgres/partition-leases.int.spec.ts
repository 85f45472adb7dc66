import { randomUUID } from 'node:crypto';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import pg from 'pg';
import type { NewEvent } from '../event-store';
import { PartitionLeaseLost, partitionOf } from '../partitions';
import { describePostgres, dropTestSchema, uniqueTestSchema } from '../testing/postgres';
import { PostgresEventStore } from './postgres-event-store';

/** The holder runs in a process of its own, from the build (npm test builds first). */
const BUILT_STORE = resolve(__dirname, '../../../../dist/libs/event-store/src/postgres/postgres-event-store.js');

const onRecord = (key: string | undefined): NewEvent => ({
  id: randomUUID(),
  type: 'Happened',
  data: {},
  metadata: {
    correlationId: 'c',
    causationId: 'c',
    actor: 'system',
    at: '2026-12-01T10:00:00.000Z',
    ...(key !== undefined ? { partitionKey: key } : {}),
  },
});

describePostgres('PostgreSQL partition leases and reads by partition', (url) => {
  const schema = uniqueTestSchema('leases');
  const stores: PostgresEventStore[] = [];
  const open = async () => {
    const store = await PostgresEventStore.connect(url, { schema, pollIntervalMs: 20 });
    stores.push(store);
    return store;
  };

  afterAll(async () => {
    for (const store of stores) await store.close();
    await dropTestSchema(url, schema);
  });

  it('one process holds a partition at a time; a take bumps the epoch; a release lets another take it', async () => {
    const a = await open();
    const b = await open();
    const first = await a.partitionLeases.tryAcquire(3, 'a');
    expect(first).toEqual({ partition: 3, epoch: expect.any(Number) as number });
    expect(await b.partitionLeases.tryAcquire(3, 'b')).toBeUndefined();
    // Asking again for what it holds answers the same lease (no second lock, no new epoch).
    expect(await a.partitionLeases.tryAcquire(3, 'a')).toEqual(first);
    await a.partitionLeases.release(3);
    const second = await b.partitionLeases.tryAcquire(3, 'b');
    expect(second?.epoch).toBe(first!.epoch + 1);
    await b.partitionLeases.release(3);
  });

  it('checkpoints advance in the unit, never back, and not for a partition taken since: the unit rolls back', async () => {
    const a = await open();
    const b = await open();
    const lease = (await a.partitionLeases.tryAcquire(5, 'a'))!;
    await a.unitOfWork((tx) => a.partitionLeases.advance(tx, 'work', 12, [lease], 40));
    await a.unitOfWork((tx) => a.partitionLeases.advance(tx, 'work', 12, [lease], 30));
    expect((await b.partitionLeases.checkpoints('work', 12, [5, 6])).get(5)).toBe(40);
    expect((await b.partitionLeases.checkpoints('work', 12, [5, 6])).get(6)).toBe(0);
    // B takes partition 5 (A's lock is released behind A's back, as when its session died).
    await a.partitionLeases.release(5);
    const taken = (await b.partitionLeases.tryAcquire(5, 'b'))!;
    expect(taken.epoch).toBe(lease.epoch + 1);
    const before = await a.headPosition();
    await expect(
      a.unitOfWork(async (tx) => {
        await tx.append({ streamId: 'entity-Order-late', expectedRevision: 'any', events: [onRecord('Order:late')] });
        await a.partitionLeases.advance(tx, 'work', 12, [lease], 99);
      }),
    ).rejects.toBeInstanceOf(PartitionLeaseLost);
    // Nothing of the fenced unit is in the log, and the checkpoint is where the owner left it.
    expect(await a.headPosition()).toBe(before);
    expect((await b.partitionLeases.checkpoints('work', 12, [5])).get(5)).toBe(40);
    await b.unitOfWork((tx) => b.partitionLeases.advance(tx, 'work', 12, [taken], 50));
    expect((await a.partitionLeases.checkpoints('work', 12, [5])).get(5)).toBe(50);
    await b.partitionLeases.release(5);
  });

  it('after the partition count changed, a partition starts from the lowest checkpoint of the old count (0 if one had none)', async () => {
    const a = await open();
    const two = [(await a.partitionLeases.tryAcquire(0, 'a'))!, (await a.partitionLeases.tryAcquire(1, 'a'))!];
    await a.unitOfWork((tx) => a.partitionLeases.advance(tx, 'recount', 2, two, 70));
    await a.unitOfWork((tx) => a.partitionLeases.advance(tx, 'recount', 2, [two[1]!], 90));
    await a.unitOfWork((tx) => a.partitionLeases.advance(tx, 'partial', 2, [two[1]!], 90));
    await a.partitionLeases.release(0);
    await a.partitionLeases.release(1);
    // Each partition of 3 holds records of both old partitions: what both had done is the lowest, 70.
    expect(await a.partitionLeases.checkpoints('recount', 3, [0, 2])).toEqual(
      new Map([
        [0, 70],
        [2, 70],
      ]),
    );
    // Old partition 0 never checkpointed anything under 2: its records' work may all be ahead.
    expect((await a.partitionLeases.checkpoints('partial', 3, [1])).get(1)).toBe(0);
    // The count the checkpoints were written under still reads them as they are.
    expect((await a.partitionLeases.checkpoints('recount', 2, [0, 1])).get(1)).toBe(90);
  });

  it('a SIGKILLed holder frees its partitions at once: its session ends with it', async () => {
    if (!existsSync(BUILT_STORE)) throw new Error(`Build first (npm run build): ${BUILT_STORE} is missing`);
    const child = spawn(
      process.execPath,
      [
        '-e',
        `const { PostgresEventStore } = require(${JSON.stringify(BUILT_STORE)});
         (async () => {
           const store = await PostgresEventStore.connect(${JSON.stringify(url)}, { schema: ${JSON.stringify(schema)} });
           await store.partitionLeases.tryAcquire(7, 'doomed');
           process.stdout.write('held\\n');
           setInterval(() => {}, 1000);
         })();`,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    await new Promise<void>((resolve, reject) => {
      child.stdout!.on('data', (chunk: Buffer) => (chunk.toString().includes('held') ? resolve() : undefined));
      child.once('exit', (code) => reject(new Error(`the holder exited early (${code})`)));
    });
    const b = await open();
    expect(await b.partitionLeases.tryAcquire(7, 'b')).toBeUndefined();
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
    let lease;
    const deadline = Date.now() + 5_000;
    while (!(lease = await b.partitionLeases.tryAcquire(7, 'b')) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(lease?.partition).toBe(7);
    await b.partitionLeases.release(7);
  }, 30_000);

  it('a lost leases session is reported, and the partitions are free for others', async () => {
    const a = await open();
    const b = await open();
    const lost = new Promise<unknown>((resolve) => a.partitionLeases.onLost(resolve));
    await a.partitionLeases.tryAcquire(9, 'a');
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    // The server ends A's leases session (as a network cut or a restart would).
    await admin.query(
      `SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND objid = 9 AND granted
         AND pid <> pg_backend_pid()`,
    );
    await admin.end();
    await lost;
    expect(a.partitionLeases.heldPartitions()).toEqual([]);
    expect((await b.partitionLeases.tryAcquire(9, 'b'))?.partition).toBe(9);
    await b.partitionLeases.release(9);
  });

  it('reads and subscriptions by partition: the owned partitions’ events, and those of no record when asked', async () => {
    const store = await open();
    const keys = Array.from({ length: 40 }, (_, n) => `Order:P-${n}`);
    for (const key of keys) {
      await store.append({
        streamId: `entity-${key.replace(':', '-')}`,
        expectedRevision: 'any',
        events: [onRecord(key)],
      });
    }
    await store.append({ streamId: 'definition-d', expectedRevision: 'any', events: [onRecord(undefined)] });
    const owned = [0, 2, 5];
    const mine = keys.filter((key) => owned.includes(partitionOf(key, 6)));
    expect(mine.length).toBeGreaterThan(0);
    const read = await store.readPartitions(0, 1000, { count: 6, owned, unpartitioned: false });
    expect(read.map((e) => e.metadata.partitionKey)).toEqual(mine);
    const withNone = await store.readPartitions(0, 1000, { count: 6, owned, unpartitioned: true });
    expect(withNone.map((e) => e.streamId).filter((s) => s === 'definition-d')).toHaveLength(1);
    expect(withNone).toHaveLength(mine.length + 1);

    const seen: string[] = [];
    const subscription = store.subscribe(
      async (events) => {
        for (const event of events) seen.push(event.metadata.partitionKey ?? event.streamId);
      },
      { partitions: { count: 6, owned, unpartitioned: false }, batchSize: 7 },
    );
    expect(await subscription.caughtUpTo(await store.headPosition(), 5_000)).toBe(true);
    await subscription.stop();
    expect(seen).toEqual(mine);
  });
});
