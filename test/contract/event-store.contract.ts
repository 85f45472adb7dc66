import { randomUUID } from 'node:crypto';
import {
  EventIdConflict,
  WrongExpectedRevision,
  type EventStore,
  type NewEvent,
  type StoredEvent,
  type Subscription,
  verifyStream,
} from '@lifeline/event-store';

export interface EventStoreCapabilities {
  /** appendMany is one transaction (SQLite). Otherwise it is stream by stream and stops at the first failure. */
  atomicAppendMany?: boolean;
  /** An event id is unique across streams (SQLite). EventStoreDB has no global event-id index. */
  globalEventIds?: boolean;
  /** A unit of work's appends commit together or not at all (SQLite, in memory). */
  atomicUnits?: boolean;
}

/**
 * The event-store port's contract. `open` is called before each test and must give a store over
 * the same backing data every time (the persistence test reopens it); tests use their own stream
 * names, so a shared store (EventStoreDB) is fine.
 */
export function eventStoreContract(
  name: string,
  open: () => Promise<EventStore>,
  cleanup?: () => Promise<void>,
  capabilities: EventStoreCapabilities = { atomicAppendMany: true, globalEventIds: true, atomicUnits: true },
): void {
  describe(`${name} — event-store contract`, () => {
    let store: EventStore;
    /** Unique per test: stream names never collide across tests or runs on a shared store. */
    let p: string;
    const subscriptions: Subscription[] = [];

    beforeEach(async () => {
      store = await open();
      p = `t${randomUUID().replace(/-/g, '').slice(0, 12)}`;
    });

    afterEach(async () => {
      await Promise.all(subscriptions.splice(0).map((s) => s.stop()));
      await store.close();
    });

    if (cleanup !== undefined) afterAll(cleanup);

    function subscribeTracked(...args: Parameters<EventStore['subscribe']>): Subscription {
      const subscription = store.subscribe(...args);
      subscriptions.push(subscription);
      return subscription;
    }

    describe('append and readStream', () => {
      it('stores events with revisions from 0, increasing positions and messageId = id', async () => {
        const events = [
          newEvent('InstanceStarted', { n: 1 }),
          newEvent('ActivityEntered', { n: 2, nested: { b: 1, a: [1, 'x'] } }),
        ];
        const result = await store.append({ streamId: `${p}-instance-1`, events, expectedRevision: 'no-stream' });

        const stored = await store.readStream(`${p}-instance-1`);
        expect(stored.map((e) => [e.id, e.type, e.revision, e.streamId])).toEqual([
          [events[0]!.id, 'InstanceStarted', 0, `${p}-instance-1`],
          [events[1]!.id, 'ActivityEntered', 1, `${p}-instance-1`],
        ]);
        expect(stored[1]!.data).toEqual({ n: 2, nested: { b: 1, a: [1, 'x'] } });
        expect(stored[0]!.metadata).toMatchObject({ ...events[0]!.metadata, messageId: events[0]!.id });
        expect(stored[1]!.metadata.messageId).toBe(events[1]!.id);
        expect(stored[1]!.position).toBeGreaterThan(stored[0]!.position);
        expect(result).toEqual({ nextRevision: 1, position: stored[1]!.position, duplicate: false });
      });

      it('gives [] for a stream that does not exist', async () => {
        expect(await store.readStream(`${p}-nothing`)).toEqual([]);
        expect(await store.readStream(`${p}-nothing`, { direction: 'backwards' })).toEqual([]);
      });

      it('reads forwards and backwards from a revision, at most maxCount events', async () => {
        const streamId = `${p}-instance-1`;
        await store.append({
          streamId,
          events: range(5).map((n) => newEvent('VariablesSet', { n })),
          expectedRevision: 'no-stream',
        });

        const revisions = (events: StoredEvent[]): number[] => events.map((e) => e.revision);
        expect(revisions(await store.readStream(streamId, { direction: 'backwards' }))).toEqual([4, 3, 2, 1, 0]);
        expect(
          revisions(await store.readStream(streamId, { direction: 'backwards', fromRevision: 2, maxCount: 2 })),
        ).toEqual([2, 1]);
        expect(revisions(await store.readStream(streamId, { direction: 'backwards', maxCount: 1 }))).toEqual([4]);
        expect(revisions(await store.readStream(streamId, { fromRevision: 1, maxCount: 2 }))).toEqual([1, 2]);
        expect(revisions(await store.readStream(streamId, { fromRevision: 3 }))).toEqual([3, 4]);
        expect((await store.readStream(streamId, { direction: 'backwards' })).map((e) => e.data)).toEqual(
          [4, 3, 2, 1, 0].map((n) => ({ n })),
        );
      });

      it('keeps events after the store is closed and opened again', async () => {
        const events = [newEvent('InstanceStarted', { amount: 1200 }), newEvent('TaskCreated', { title: 'Review' })];
        await store.append({ streamId: `${p}-instance-1`, events, expectedRevision: 'no-stream' });
        const before = await store.readStream(`${p}-instance-1`);
        await store.close();

        store = await open();
        const after = await store.readStream(`${p}-instance-1`);
        expect(after).toEqual(before);
        expect(after.map((e) => e.id)).toEqual(events.map((e) => e.id));
        expect(await store.headPosition()).toBeGreaterThanOrEqual(after[1]!.position);
      });
    });

    describe('expected revision', () => {
      it("'no-stream' and -1 accept a new stream and refuse an existing one with the actual revision", async () => {
        const streamId = `${p}-instance-1`;
        await store.append({ streamId, events: [newEvent('A')], expectedRevision: -1 });

        const error = await caught(store.append({ streamId, events: [newEvent('B')], expectedRevision: 'no-stream' }));
        expect(error).toBeInstanceOf(WrongExpectedRevision);
        expect(error).toMatchObject({
          code: 'STORE.WRONG_EXPECTED_REVISION',
          streamId,
          expected: 'no-stream',
          actual: 0,
        });
        const again = await caught(store.append({ streamId, events: [newEvent('B')], expectedRevision: -1 }));
        expect(again).toMatchObject({ actual: 0 });
        expect(await store.readStream(streamId)).toHaveLength(1);
      });

      it('an exact revision appends when it is the last revision and is refused otherwise', async () => {
        const streamId = `${p}-instance-1`;
        await store.append({ streamId, events: [newEvent('A'), newEvent('B')], expectedRevision: 'no-stream' });

        const ok = await store.append({ streamId, events: [newEvent('C')], expectedRevision: 1 });
        expect(ok.nextRevision).toBe(2);
        const stale = await caught(store.append({ streamId, events: [newEvent('D')], expectedRevision: 1 }));
        expect(stale).toBeInstanceOf(WrongExpectedRevision);
        expect(stale).toMatchObject({ expected: 1, actual: 2 });
        const ahead = await caught(store.append({ streamId, events: [newEvent('D')], expectedRevision: 7 }));
        expect(ahead).toMatchObject({ expected: 7, actual: 2 });
        const missing = await caught(
          store.append({ streamId: `${p}-other`, events: [newEvent('D')], expectedRevision: 0 }),
        );
        expect(missing).toMatchObject({ expected: 0, actual: -1 });
        expect((await store.readStream(streamId)).map((e) => e.type)).toEqual(['A', 'B', 'C']);
      });

      it("'any' appends whatever the stream's revision", async () => {
        const streamId = `${p}-instance-1`;
        const first = await store.append({ streamId, events: [newEvent('A')], expectedRevision: 'any' });
        const second = await store.append({
          streamId,
          events: [newEvent('B'), newEvent('C')],
          expectedRevision: 'any',
        });
        expect([first.nextRevision, second.nextRevision]).toEqual([0, 2]);
        expect(second.position).toBeGreaterThan(first.position);
      });
    });

    describe('idempotency by event id', () => {
      it('re-appending the same events is a duplicate: same position, nothing new in the log', async () => {
        const streamId = `${p}-instance-1`;
        const events = [newEvent('A'), newEvent('B')];
        const first = await store.append({ streamId, events, expectedRevision: 'no-stream' });
        await store.append({ streamId, events: [newEvent('C')], expectedRevision: 1 });
        const head = await store.headPosition();

        // A retried command carries its original, now stale, expected revision.
        const retry = await store.append({ streamId, events, expectedRevision: 'no-stream' });
        expect(retry).toEqual({ duplicate: true, position: first.position, nextRevision: 2 });
        expect(await store.headPosition()).toBe(head);
        expect((await store.readAll(0, 10_000, [p])).map((e) => e.type)).toEqual(['A', 'B', 'C']);
      });

      (capabilities.globalEventIds === true ? it : it.skip)(
        `an event id already stored in another stream is an EventIdConflict and writes nothing${capabilities.globalEventIds === true ? '' : ' — skipped: this store keeps event ids unique per stream only'}`,
        async () => {
          const event = newEvent('A');
          await store.append({ streamId: `${p}-instance-1`, events: [event], expectedRevision: 'no-stream' });

          const error = await caught(
            store.append({ streamId: `${p}-instance-2`, events: [event], expectedRevision: 'any' }),
          );
          expect(error).toBeInstanceOf(EventIdConflict);
          expect(error).toMatchObject({
            code: 'STORE.EVENT_ID_CONFLICT',
            eventId: event.id,
            streamId: `${p}-instance-2`,
          });
          expect(await store.readStream(`${p}-instance-2`)).toEqual([]);
        },
      );
    });

    describe('appendMany', () => {
      it('appends to several streams in order and answers one result per request', async () => {
        const results = await store.appendMany([
          { streamId: `${p}-instance-1`, events: [newEvent('A'), newEvent('B')], expectedRevision: 'no-stream' },
          { streamId: `${p}-entity-Invoice-7`, events: [newEvent('C')], expectedRevision: 'no-stream' },
        ]);
        expect(results.map((r) => [r.nextRevision, r.duplicate])).toEqual([
          [1, false],
          [0, false],
        ]);
        expect(results[1]!.position).toBeGreaterThan(results[0]!.position);
        expect((await store.readAll(0, 10_000, [p])).map((e) => e.type)).toEqual(['A', 'B', 'C']);
      });

      if (capabilities.atomicAppendMany === true) {
        it('is all-or-nothing: a conflict in one request writes none of them', async () => {
          await store.append({ streamId: `${p}-instance-2`, events: [newEvent('X')], expectedRevision: 'no-stream' });

          const error = await caught(
            store.appendMany([
              { streamId: `${p}-instance-1`, events: [newEvent('A')], expectedRevision: 'no-stream' },
              { streamId: `${p}-instance-2`, events: [newEvent('B')], expectedRevision: 'no-stream' },
            ]),
          );
          expect(error).toBeInstanceOf(WrongExpectedRevision);
          expect(await store.readStream(`${p}-instance-1`)).toEqual([]);
          expect((await store.readAll(0, 10_000, [p])).map((e) => e.type)).toEqual(['X']);
        });

        it('is all-or-nothing on an EventIdConflict too', async () => {
          const taken = newEvent('X');
          await store.append({ streamId: `${p}-instance-2`, events: [taken], expectedRevision: 'no-stream' });

          const error = await caught(
            store.appendMany([
              { streamId: `${p}-instance-1`, events: [newEvent('A')], expectedRevision: 'no-stream' },
              { streamId: `${p}-instance-3`, events: [taken], expectedRevision: 'no-stream' },
            ]),
          );
          expect(error).toBeInstanceOf(EventIdConflict);
          expect(await store.readStream(`${p}-instance-1`)).toEqual([]);
        });
      } else {
        it('stops at the first failing request and a retry of the whole call is idempotent', async () => {
          await store.append({ streamId: `${p}-instance-2`, events: [newEvent('X')], expectedRevision: 'no-stream' });
          const a = newEvent('A');
          const c = newEvent('C');
          const error = await caught(
            store.appendMany([
              { streamId: `${p}-instance-1`, events: [a], expectedRevision: 'no-stream' },
              { streamId: `${p}-instance-2`, events: [newEvent('B')], expectedRevision: 'no-stream' },
              { streamId: `${p}-instance-3`, events: [c], expectedRevision: 'no-stream' },
            ]),
          );
          expect(error).toBeInstanceOf(WrongExpectedRevision);
          expect(await store.readStream(`${p}-instance-3`)).toEqual([]);

          const retry = await store.appendMany([
            { streamId: `${p}-instance-1`, events: [a], expectedRevision: 'no-stream' },
            { streamId: `${p}-instance-3`, events: [c], expectedRevision: 'no-stream' },
          ]);
          expect(retry.map((r) => r.duplicate)).toEqual([true, false]);
          expect((await store.readAll(0, 10_000, [p])).map((e) => e.type)).toEqual(['X', 'A', 'C']);
        });
      }
    });

    describe('the global log', () => {
      it('readAll gives events after a position in append order, filtered by stream prefixes', async () => {
        const start = await store.headPosition();
        await store.append({
          streamId: `${p}-instance-1`,
          events: [newEvent('I1a'), newEvent('I1b')],
          expectedRevision: 'any',
        });
        await store.append({ streamId: `${p}-entity-Invoice-7`, events: [newEvent('E1')], expectedRevision: 'any' });
        await store.append({ streamId: `${p}-instance-2`, events: [newEvent('I2a')], expectedRevision: 'any' });
        await store.append({ streamId: `${p}-definition-x`, events: [newEvent('D1')], expectedRevision: 'any' });

        const all = await store.readAll(start, 10_000);
        const ours = all.filter((e) => e.streamId.startsWith(p));
        expect(ours.map((e) => e.type)).toEqual(['I1a', 'I1b', 'E1', 'I2a', 'D1']);
        expect(isStrictlyIncreasing(all.map((e) => e.position))).toBe(true);
        expect(all.every((e) => e.position > start)).toBe(true);

        const instances = await store.readAll(start, 10_000, [`${p}-instance-`]);
        expect(instances.map((e) => e.type)).toEqual(['I1a', 'I1b', 'I2a']);
        const two = await store.readAll(start, 10_000, [`${p}-definition-`, `${p}-entity-`]);
        expect(two.map((e) => e.type)).toEqual(['E1', 'D1']);
        expect(await store.readAll(start, 10_000, [`${p}-nothing-`])).toEqual([]);

        // fromPosition is exclusive and maxCount bounds the page.
        const page = await store.readAll(ours[1]!.position, 2, [p]);
        expect(page.map((e) => e.type)).toEqual(['E1', 'I2a']);
        expect(await store.readAll(ours[4]!.position, 10, [p])).toEqual([]);
        // Events read from the log are the same as read from their stream.
        expect(instances.slice(0, 2)).toEqual(await store.readStream(`${p}-instance-1`));
      });

      it('headPosition is the position of the last appended event', async () => {
        const result = await store.append({
          streamId: `${p}-instance-1`,
          events: [newEvent('A'), newEvent('B')],
          expectedRevision: 'any',
        });
        expect(await store.headPosition()).toBe(result.position);
        const stored = await store.readStream(`${p}-instance-1`);
        expect(stored[1]!.position).toBe(result.position);
      });
    });

    describe('subscribe', () => {
      it('catches up in batches, then delivers live appends, each event once and in order', async () => {
        const start = await store.headPosition();
        const before = range(5).map((n) => newEvent('Before', { n }));
        await store.append({ streamId: `${p}-instance-1`, events: before, expectedRevision: 'no-stream' });
        await store.append({ streamId: `other${p}-x`, events: [newEvent('NotOurs')], expectedRevision: 'no-stream' });

        const delivered: StoredEvent[] = [];
        const batchSizes: number[] = [];
        const subscription = subscribeTracked(
          async (events) => {
            batchSizes.push(events.length);
            delivered.push(...events);
          },
          { fromPosition: start, prefixes: [p], batchSize: 2 },
        );
        const stored = await store.readStream(`${p}-instance-1`);
        expect(await subscription.caughtUpTo(stored[4]!.position, 5000)).toBe(true);
        expect(delivered.map((e) => e.id)).toEqual(before.map((e) => e.id));
        expect(Math.max(...batchSizes)).toBeLessThanOrEqual(2);

        const live = await store.append({
          streamId: `${p}-entity-Invoice-7`,
          events: [newEvent('Live1'), newEvent('Live2')],
          expectedRevision: 'no-stream',
        });
        expect(await subscription.caughtUpTo(live.position, 5000)).toBe(true);
        expect(delivered.map((e) => e.type)).toEqual([
          'Before',
          'Before',
          'Before',
          'Before',
          'Before',
          'Live1',
          'Live2',
        ]);
        expect(delivered.every((e) => e.streamId.startsWith(p))).toBe(true);
        expect(isStrictlyIncreasing(delivered.map((e) => e.position))).toBe(true);
        expect(delivered[6]).toEqual((await store.readStream(`${p}-entity-Invoice-7`))[1]);
      });

      it('resumes from a checkpoint without gaps or repeats', async () => {
        const start = await store.headPosition();
        await store.append({
          streamId: `${p}-instance-1`,
          events: range(3).map((n) => newEvent('First', { n })),
          expectedRevision: 'no-stream',
        });
        let checkpoint = start;
        const firstRun: StoredEvent[] = [];
        const first = subscribeTracked(
          async (events) => {
            firstRun.push(...events);
            checkpoint = events[events.length - 1]!.position;
          },
          { fromPosition: start, prefixes: [p] },
        );
        expect(await first.caughtUpTo(await store.headPosition(), 5000)).toBe(true);
        await first.stop();

        const later = await store.append({
          streamId: `${p}-instance-1`,
          events: range(4).map((n) => newEvent('Second', { n })),
          expectedRevision: 2,
        });
        const secondRun: StoredEvent[] = [];
        const second = subscribeTracked(async (events) => void secondRun.push(...events), {
          fromPosition: checkpoint,
          prefixes: [p],
        });
        expect(await second.caughtUpTo(later.position, 5000)).toBe(true);

        expect(firstRun.map((e) => e.revision)).toEqual([0, 1, 2]);
        expect(secondRun.map((e) => e.revision)).toEqual([3, 4, 5, 6]);
      });

      it('caughtUpTo answers false when the position is not reached in time, or the subscription is stopped', async () => {
        const result = await store.append({
          streamId: `${p}-instance-1`,
          events: [newEvent('A')],
          expectedRevision: 'no-stream',
        });
        const subscription = subscribeTracked(async () => undefined, {
          fromPosition: result.position - 1,
          prefixes: [p],
        });
        expect(await subscription.caughtUpTo(result.position, 5000)).toBe(true);
        expect(await subscription.caughtUpTo(result.position + 1_000_000_000, 50)).toBe(false);
        await subscription.stop();
        expect(await subscription.caughtUpTo(result.position + 1_000_000_000, 5000)).toBe(false);
      });

      it('stop waits for the handler call in flight and nothing is delivered afterwards', async () => {
        const start = await store.headPosition();
        const entered = deferred<void>();
        const release = deferred<void>();
        let handlerFinished = false;
        const delivered: string[] = [];
        const subscription = subscribeTracked(
          async (events) => {
            delivered.push(...events.map((e) => e.type));
            entered.resolve();
            await release.promise;
            handlerFinished = true;
          },
          { fromPosition: start, prefixes: [p] },
        );
        await store.append({ streamId: `${p}-instance-1`, events: [newEvent('A')], expectedRevision: 'no-stream' });
        await entered.promise;

        let stopped = false;
        const stopping = subscription.stop().then(() => {
          stopped = true;
        });
        await flushMacrotasks();
        expect(stopped).toBe(false);
        release.resolve();
        await stopping;
        expect(handlerFinished).toBe(true);

        const after = await store.append({ streamId: `${p}-instance-1`, events: [newEvent('B')], expectedRevision: 0 });
        const witness = subscribeTracked(async () => undefined, { fromPosition: start, prefixes: [p] });
        expect(await witness.caughtUpTo(after.position, 5000)).toBe(true);
        expect(delivered).toEqual(['A']);
      });

      it('a throwing handler stops the subscription and reports the error to onError', async () => {
        const start = await store.headPosition();
        const boom = new Error('projection failed');
        const errors: unknown[] = [];
        let calls = 0;
        const failing = subscribeTracked(
          async () => {
            calls++;
            throw boom;
          },
          { fromPosition: start, prefixes: [p], onError: (error) => errors.push(error) },
        );
        const first = await store.append({
          streamId: `${p}-instance-1`,
          events: [newEvent('A')],
          expectedRevision: 'no-stream',
        });
        const witness = subscribeTracked(async () => undefined, { fromPosition: start, prefixes: [p] });
        expect(await witness.caughtUpTo(first.position, 5000)).toBe(true);
        expect(await failing.caughtUpTo(first.position, 5000)).toBe(false);
        expect(errors).toEqual([boom]);

        const second = await store.append({
          streamId: `${p}-instance-1`,
          events: [newEvent('B')],
          expectedRevision: 0,
        });
        expect(await witness.caughtUpTo(second.position, 5000)).toBe(true);
        expect(calls).toBe(1);
      });
    });

    describe('units of work', () => {
      it('a unit reads its own appends, lists what it appended, and its commit hooks run once it is durable', async () => {
        const committedHook: number[] = [];
        const result = await store.unitOfWork(async (tx) => {
          await tx.append({ streamId: `${p}-a`, events: [newEvent('A')], expectedRevision: 'no-stream' });
          await tx.append({
            streamId: `${p}-b`,
            events: [newEvent('B'), newEvent('C')],
            expectedRevision: 'no-stream',
          });
          const own = await tx.readStream(`${p}-b`);
          tx.onCommit(() => committedHook.push(own.length));
          expect(committedHook).toEqual([]);
          return { own: own.map((e) => e.type), appended: tx.appended.map((e) => [e.streamId, e.type]) };
        });
        expect(result.own).toEqual(['B', 'C']);
        if (capabilities.atomicUnits) {
          expect(result.appended).toEqual([
            [`${p}-a`, 'A'],
            [`${p}-b`, 'B'],
            [`${p}-b`, 'C'],
          ]);
        }
        expect(committedHook).toEqual([2]);
        expect((await store.readStream(`${p}-b`)).map((e) => e.type)).toEqual(['B', 'C']);
      });

      if (capabilities.atomicUnits) {
        it('a unit that throws leaves nothing behind, and a unit submitted beside it commits', async () => {
          const head = await store.headPosition();
          const seen: string[][] = [];
          const unlisten = store.onCommitted((events) => seen.push(events.map((e) => e.type)));
          const boom = new Error('boom');
          const failing = store.unitOfWork(async (tx) => {
            await tx.append({ streamId: `${p}-x`, events: [newEvent('X1')], expectedRevision: 'no-stream' });
            throw boom;
          });
          const ok = store.unitOfWork(async (tx) =>
            tx.append({ streamId: `${p}-y`, events: [newEvent('Y1')], expectedRevision: 'no-stream' }),
          );
          await expect(failing).rejects.toBe(boom);
          const done = await ok;
          unlisten();
          expect(await store.readStream(`${p}-x`)).toEqual([]);
          expect((await store.readStream(`${p}-y`)).map((e) => e.type)).toEqual(['Y1']);
          // Positions stay contiguous: the failed unit's position is the next unit's.
          expect(done.position).toBe(head + 1);
          expect(seen).toEqual([['Y1']]);
        });

        it('an attempt that throws is undone, and the rest of its unit commits', async () => {
          const result = await store.unitOfWork(async (tx) => {
            await tx.append({ streamId: `${p}-kept`, events: [newEvent('K1')], expectedRevision: 'no-stream' });
            await expect(
              tx.attempt(async () => {
                await tx.append({ streamId: `${p}-undone`, events: [newEvent('U1')], expectedRevision: 'no-stream' });
                throw new Error('poison');
              }),
            ).rejects.toThrow('poison');
            const inner = await tx.attempt(async () =>
              tx.append({ streamId: `${p}-kept`, events: [newEvent('K2')], expectedRevision: 0 }),
            );
            return { inner, appended: tx.appended.map((e) => e.type) };
          });
          expect(result.appended).toEqual(['K1', 'K2']);
          expect(await store.readStream(`${p}-undone`)).toEqual([]);
          expect((await store.readStream(`${p}-kept`)).map((e) => e.type)).toEqual(['K1', 'K2']);
          expect((await store.readStream(`${p}-kept`)).at(-1)!.position).toBe(result.inner.position);
        });

        it('onCommitted gets the committed events, with their positions, before the unit answers', async () => {
          const seen: [string, number][] = [];
          const unlisten = store.onCommitted((events) =>
            seen.push(...events.map((e): [string, number] => [e.type, e.position])),
          );
          const result = await store.unitOfWork(async (tx) => {
            const a = await tx.append({
              streamId: `${p}-c`,
              events: [newEvent('A'), newEvent('B')],
              expectedRevision: 'no-stream',
            });
            expect(seen).toEqual([]);
            return a;
          });
          expect(seen).toEqual([
            ['A', result.position - 1],
            ['B', result.position],
          ]);
          unlisten();
        });

        it('concurrent units each keep their own expected revisions: the second append to one stream conflicts', async () => {
          const streamId = `${p}-race`;
          const attempts = await Promise.allSettled(
            [0, 1].map(() =>
              store.unitOfWork((tx) => tx.append({ streamId, events: [newEvent('A')], expectedRevision: 'no-stream' })),
            ),
          );
          expect(attempts.map((a) => a.status).sort()).toEqual(['fulfilled', 'rejected']);
          expect((attempts.find((a) => a.status === 'rejected') as PromiseRejectedResult).reason).toBeInstanceOf(
            WrongExpectedRevision,
          );
          expect((await store.readStream(streamId)).length).toBe(1);
        });
      }
    });

    describe('hash chain', () => {
      it('links every event to the previous one of its stream, across appends, and verifies', async () => {
        const streamId = `${p}-instance-1`;
        await store.append({
          streamId,
          events: [newEvent('A', { amount: 1 }), newEvent('B')],
          expectedRevision: 'no-stream',
        });
        await store.append({ streamId: `${p}-instance-2`, events: [newEvent('Other')], expectedRevision: 'no-stream' });
        await store.append({ streamId, events: [newEvent('C', { list: [3, 2, 1] })], expectedRevision: 1 });

        const events = await store.readStream(streamId);
        expect(events[0]!.metadata.prevHash).toBe('');
        expect(events.every((e) => /^[0-9a-f]{64}$/.test(e.metadata.hash ?? ''))).toBe(true);
        expect(events[1]!.metadata.prevHash).toBe(events[0]!.metadata.hash);
        expect(events[2]!.metadata.prevHash).toBe(events[1]!.metadata.hash);
        expect(new Set(events.map((e) => e.metadata.hash)).size).toBe(3);
        expect(verifyStream(events)).toEqual({ ok: true });
        expect(verifyStream(await store.readStream(`${p}-instance-2`))).toEqual({ ok: true });
      });

      it('verifyStream finds a modified event, a modified chain link and a missing event', async () => {
        const streamId = `${p}-instance-1`;
        await store.append({
          streamId,
          events: [newEvent('A', { amount: 1200 }), newEvent('B', { amount: 5 }), newEvent('C')],
          expectedRevision: 'no-stream',
        });
        const events = await store.readStream(streamId);

        const data = structuredClone(events);
        (data[1]!.data as { amount: number }).amount = 1;
        expect(verifyStream(data)).toMatchObject({ ok: false, revision: 1, eventId: events[1]!.id });

        const actor = structuredClone(events);
        actor[2]!.metadata.actor = 'mallory';
        expect(verifyStream(actor)).toMatchObject({ ok: false, revision: 2, eventId: events[2]!.id });

        const relinked = structuredClone(events);
        relinked[1]!.metadata.prevHash = relinked[0]!.metadata.hash!.replace(/^./, (c) => (c === '0' ? '1' : '0'));
        expect(verifyStream(relinked)).toMatchObject({ ok: false, revision: 1 });

        expect(verifyStream([events[0]!, events[2]!])).toMatchObject({ ok: false, eventId: events[2]!.id });
        expect(verifyStream(events)).toEqual({ ok: true });
      });
    });
  });
}

export function newEvent(type: string, data: unknown = {}): NewEvent {
  return {
    id: randomUUID(),
    type,
    data,
    metadata: { correlationId: 'corr-1', causationId: 'cause-1', actor: 'alice', at: '2026-11-21T10:00:00.000Z' },
  };
}

function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}

function isStrictlyIncreasing(values: number[]): boolean {
  return values.every((v, i) => i === 0 || v > values[i - 1]!);
}

async function caught(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the call to fail');
}

function deferred<T>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

/** Lets every pending timer-free callback run, so a premature resolution would show. */
async function flushMacrotasks(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
}
