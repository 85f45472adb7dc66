import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import type { AppendResult, NewEvent, StoredEvent, Subscription } from '../event-store';
import { copyHistory } from '../copy-history';
import { verifyStream } from '../hash-chain';
import { SqliteEventStore } from '../sqlite/sqlite-event-store';
import { describePostgres, dropTestSchema, uniqueTestSchema } from '../testing/postgres';
import { PostgresEventStore } from './postgres-event-store';

const newEvent = (type: string): NewEvent => ({
  id: randomUUID(),
  type,
  data: { type },
  metadata: { correlationId: 'c', causationId: 'c', actor: 'alice', at: '2026-11-21T10:00:00.000Z' },
});

function deferred<T>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

describePostgres('PostgresEventStore: writers, readers and units on a real database', (url) => {
  const schema = uniqueTestSchema('int');
  const stores: PostgresEventStore[] = [];
  const subscriptions: Subscription[] = [];
  let admin: pg.Client;

  const open = async (): Promise<PostgresEventStore> => {
    const store = await PostgresEventStore.connect(url, { schema, pollIntervalMs: 20 });
    stores.push(store);
    return store;
  };

  beforeAll(async () => {
    admin = new pg.Client({ connectionString: url });
    await admin.connect();
  });
  afterEach(async () => {
    await Promise.all(subscriptions.splice(0).map((s) => s.stop()));
    await Promise.all(stores.splice(0).map((s) => s.close()));
  });
  afterAll(async () => {
    await admin.end();
    await dropTestSchema(url, schema);
  });

  /** Until `settled()` or a backend of this schema's store waits on a lock (polls the server, 10 s at most). */
  async function untilSettledOrWaitingOnLock(settled: () => boolean): Promise<'settled' | 'waiting'> {
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      if (settled()) return 'settled';
      const { rows } = await admin.query<{ n: string }>(
        `SELECT count(*) AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND position($1 IN query) > 0`,
        [schema],
      );
      if (Number(rows[0]!.n) > 0) return 'waiting';
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    throw new Error('the second writer neither finished nor waited on a lock');
  }

  it('a subscriber never skips an event whose transaction commits after a later position became visible', async () => {
    const [first, second, reader] = [await open(), await open(), await open()];
    const p = `trap${randomUUID().slice(0, 8)}`;
    const start = await reader.headPosition();
    const delivered: StoredEvent[] = [];
    const subscription = reader.subscribe(async (events) => void delivered.push(...events), {
      fromPosition: start,
      prefixes: [p],
    });
    subscriptions.push(subscription);

    // The first writer appends (it holds the lower position) and keeps its transaction open.
    const appendedA = deferred<AppendResult>();
    const commitA = deferred<void>();
    const unitA = first.unitOfWork(async (tx) => {
      const result = await tx.append({ streamId: `${p}-a`, events: [newEvent('A')], expectedRevision: 'no-stream' });
      appendedA.resolve(result);
      await commitA.promise;
      return result;
    });
    const a = await appendedA.promise;

    // The second writer appends meanwhile: a naive store gives it the next position and commits it first.
    let bSettled = false;
    const unitB = second
      .append({ streamId: `${p}-b`, events: [newEvent('B')], expectedRevision: 'no-stream' })
      .finally(() => (bSettled = true));
    try {
      await untilSettledOrWaitingOnLock(() => bSettled);
      // Whatever is visible now, the subscriber handles it: nothing past A's position may be among it.
      expect(await subscription.caughtUpTo(await reader.headPosition(), 5000)).toBe(true);
      expect(delivered.filter((e) => e.position > a.position)).toEqual([]);
    } finally {
      // A failed expectation above must not leave A's transaction open (closing the store waits for it).
      commitA.resolve();
    }
    const [doneA, doneB] = await Promise.all([unitA, unitB]);
    expect(await subscription.caughtUpTo(Math.max(doneA.position, doneB.position), 5000)).toBe(true);
    expect(delivered.map((e) => [e.type, e.position])).toEqual([
      ['A', doneA.position],
      ['B', doneB.position],
    ]);
    // The second writer's position is handed out once the first committed: the log has no gap.
    expect(doneB.position).toBe(doneA.position + 1);
  });

  it('concurrent writers in several processes: a subscriber gets every event once, in position order, without gaps', async () => {
    const writers = [await open(), await open(), await open()];
    const reader = await open();
    const p = `many${randomUUID().slice(0, 8)}`;
    const start = await reader.headPosition();
    const delivered: StoredEvent[] = [];
    subscriptions.push(
      reader.subscribe(async (events) => void delivered.push(...events), { fromPosition: start, prefixes: [p] }),
    );
    const results = await Promise.all(
      writers.flatMap((writer, w) =>
        Array.from({ length: 30 }, (_, i) =>
          writer.append({ streamId: `${p}-${w}-${i % 3}`, events: [newEvent(`E${w}`)], expectedRevision: 'any' }),
        ),
      ),
    );
    const last = Math.max(...results.map((r) => r.position));
    expect(await subscriptions[0]!.caughtUpTo(last, 10_000)).toBe(true);
    expect(delivered.map((e) => e.position)).toEqual(Array.from({ length: 90 }, (_, i) => start + 1 + i));
    expect(new Set(delivered.map((e) => e.id)).size).toBe(90);
    // Each stream's revisions are 0..9 and its chain links up, although three processes appended to the log.
    const stream = await reader.readStream(`${p}-1-2`);
    expect(stream.map((e) => e.revision)).toEqual(Array.from({ length: 10 }, (_, i) => i));
    expect(stream.every((e, i) => i === 0 || e.metadata.prevHash === stream[i - 1]!.metadata.hash)).toBe(true);
  });

  it('two processes appending to one stream with the same expected revision: one wins, the other gets the actual revision', async () => {
    const [first, second] = [await open(), await open()];
    const streamId = `race${randomUUID().slice(0, 8)}`;
    await first.append({ streamId, events: [newEvent('A')], expectedRevision: 'no-stream' });
    const attempts = await Promise.allSettled(
      [first, second].map((store) => store.append({ streamId, events: [newEvent('B')], expectedRevision: 0 })),
    );
    expect(attempts.map((a) => a.status).sort()).toEqual(['fulfilled', 'rejected']);
    expect((attempts.find((a) => a.status === 'rejected') as PromiseRejectedResult).reason).toMatchObject({
      code: 'STORE.WRONG_EXPECTED_REVISION',
      actual: 1,
    });
    expect((await first.readStream(streamId)).map((e) => e.type)).toEqual(['A', 'B']);
  });

  it('units of one turn share one commit: a failing unit between two others, and an attempt that fails after one that held, undo only themselves', async () => {
    const store = await open();
    const p = `group${randomUUID().slice(0, 8)}`;
    const start = await store.headPosition();
    const commits: string[][] = [];
    store.onCommitted((events) => commits.push(events.map((e) => e.type)));
    const boom = new Error('boom');
    const [first, second, third] = await Promise.allSettled([
      store.unitOfWork(async (tx) => {
        await tx.append({ streamId: `${p}-1`, events: [newEvent('U1')], expectedRevision: 'no-stream' });
        await tx.attempt(() => tx.append({ streamId: `${p}-1`, events: [newEvent('Kept')], expectedRevision: 0 }));
        await expect(
          tx.attempt(async () => {
            await tx.append({ streamId: `${p}-1`, events: [newEvent('Undone')], expectedRevision: 1 });
            throw boom;
          }),
        ).rejects.toBe(boom);
        return tx.append({ streamId: `${p}-1`, events: [newEvent('After')], expectedRevision: 1 });
      }),
      store.unitOfWork(async (tx) => {
        await tx.append({ streamId: `${p}-2`, events: [newEvent('U2')], expectedRevision: 'no-stream' });
        throw boom;
      }),
      store.unitOfWork((tx) =>
        tx.append({ streamId: `${p}-3`, events: [newEvent('U3')], expectedRevision: 'no-stream' }),
      ),
    ]);
    expect([first.status, second.status, third.status]).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(commits).toEqual([['U1', 'Kept', 'After', 'U3']]);
    const log = await store.readAll(start, 100, [p]);
    expect(log.map((e) => [e.type, e.position])).toEqual([
      ['U1', start + 1],
      ['Kept', start + 2],
      ['After', start + 3],
      ['U3', start + 4],
    ]);
    expect(await store.headPosition()).toBe(start + 4);
  });

  it("an append onto a stream another process moved on (this process's guess at its head is stale) chains onto the real head", async () => {
    const [first, second] = [await open(), await open()];
    const streamId = `stale${randomUUID().slice(0, 8)}`;
    await first.append({ streamId, events: [newEvent('A')], expectedRevision: 'any' });
    await second.append({ streamId, events: [newEvent('B')], expectedRevision: 'any' });
    const result = await first.append({ streamId, events: [newEvent('C')], expectedRevision: 'any' });
    expect(result).toMatchObject({ duplicate: false, nextRevision: 2 });
    const stream = await first.readStream(streamId);
    expect(stream.map((e) => [e.type, e.revision])).toEqual([
      ['A', 0],
      ['B', 1],
      ['C', 2],
    ]);
    expect(verifyStream(stream)).toEqual({ ok: true });
    // An exact expected revision is checked against the real head, not the guess.
    await expect(first.append({ streamId, events: [newEvent('D')], expectedRevision: 0 })).rejects.toMatchObject({
      code: 'STORE.WRONG_EXPECTED_REVISION',
      actual: 2,
    });
  });

  it("the server dropping the store's connections: a subscription reads on over new ones, and the next append gets a new writer", async () => {
    const store = await open();
    const p = `lost${randomUUID().slice(0, 8)}`;
    const start = await store.headPosition();
    const delivered: StoredEvent[] = [];
    const errors: unknown[] = [];
    const subscription = store.subscribe(async (events) => void delivered.push(...events), {
      fromPosition: start,
      prefixes: [p],
      onError: (error) => errors.push(error),
    });
    subscriptions.push(subscription);
    const before = await store.append({ streamId: `${p}-a`, events: [newEvent('Before')], expectedRevision: 'any' });
    expect(await subscription.caughtUpTo(before.position, 5000)).toBe(true);

    // Every connection of this test's store (the admin connection excepted) is terminated by the server.
    const terminated = await admin.query(
      `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
        WHERE datname = current_database() AND pid <> pg_backend_pid() AND application_name = ''
          AND (position($1 IN query) > 0 OR query = 'LISTEN ' || quote_ident('lifeline_events_' || $1))`,
      [schema],
    );
    // The writer and the subscription's read connection at least (the listener too, once it listens).
    expect(terminated.rowCount).toBeGreaterThanOrEqual(2);
    // The batch that meets the dead writer fails as a whole (nothing of it commits); the next one reconnects.
    let after: AppendResult | undefined;
    for (let attempt = 0; after === undefined && attempt < 2; attempt++) {
      after = await store
        .append({ streamId: `${p}-a`, events: [newEvent('After')], expectedRevision: 'any' })
        .catch(() => undefined);
    }
    expect(after).toMatchObject({ duplicate: false, nextRevision: 1, position: before.position + 1 });
    expect(await subscription.caughtUpTo(after!.position, 10_000)).toBe(true);
    expect(delivered.map((e) => e.type)).toEqual(['Before', 'After']);
    expect(errors).toEqual([]);
  });

  it('a SQLite history copied into PostgreSQL has the same events and the same chains, and the checksums agree', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lifeline-postgres-copy-'));
    const source = SqliteEventStore.open(join(dir, 'events.db'));
    const copySchema = `${schema}_copy`;
    const target = await PostgresEventStore.connect(url, { schema: copySchema });
    try {
      for (let i = 0; i < 30; i++) {
        await source.append({
          streamId: `instance-${i % 4}`,
          events: [{ ...newEvent(`E${i}`), data: { i, nested: { z: [i], a: 'é\u0000"' } } }],
          expectedRevision: 'any',
        });
      }
      const result = await copyHistory(source, target, { batchSize: 7 });
      expect(result).toMatchObject({ copied: 30, skipped: 0 });
      expect(result.targetChecksum).toBe(result.sourceChecksum);
      const strip = (events: StoredEvent[]) => events.map(({ position: _position, ...rest }) => rest);
      expect(strip(await target.readAll(0, 100))).toEqual(strip(await source.readAll(0, 100)));
      // The stream chains are computed by each store on its own: they are the same hashes.
      expect((await target.readStream('instance-3')).map((e) => e.metadata.hash)).toEqual(
        (await source.readStream('instance-3')).map((e) => e.metadata.hash),
      );
    } finally {
      await source.close();
      await target.close();
      rmSync(dir, { recursive: true, force: true });
      await dropTestSchema(url, copySchema);
    }
  });
});
