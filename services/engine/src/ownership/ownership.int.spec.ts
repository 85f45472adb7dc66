import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import {
  PartitionedInMemoryEventStore,
  PostgresEventStore,
  partitionOf,
  type EventStore,
  type StoredEvent,
} from '@lifeline/event-store';
import { describePostgres, dropTestSchema, uniqueTestSchema } from '@lifeline/event-store/testing';
import { InProcessOutboundPublisher } from '@lifeline/entity-events';
import type { EntityEventEnvelope } from '@lifeline/process-domain';
import { T0 } from '@lifeline/testing';
import { EngineRuntime } from '../engine-runtime';
import { FakeClock } from '../shared/clock';
import { loadConfig } from '../shared/config';

const silent = pino({ level: 'silent' });
const COUNT = 4;
const RECORDS = 24;
const HOUR = 3_600_000;

/** Announce the order, wait for its third step (an hour at most), announce it late if it never comes. */
const DEFINITION = {
  key: 'order-flow',
  name: 'Order flow',
  relatedEntity: 'Order',
  triggers: [{ on: 'created' }],
  start: 'announce',
  activities: {
    announce: { type: 'automatic', emit: { topic: 'orders', type: 'OrderSeen' }, next: 'wait' },
    wait: { type: 'wait', until: 'entity.step >= 3', timeout: 'PT1H', onTimeout: 'late', next: 'done' },
    late: { type: 'automatic', emit: { topic: 'orders', type: 'OrderLate' }, next: 'done' },
    done: { type: 'end' },
  },
};

const order = (n: number, step: number): EntityEventEnvelope => ({
  id: `order-${n}-${step}`,
  entityType: 'Order',
  entityId: `O-${n}`,
  kind: step === 0 ? 'created' : 'updated',
  occurredAt: T0,
  data: { step },
});

const partitionOfOrder = (n: number) => partitionOf(`Order:O-${n}`, COUNT);

/** Where the engines of a spec share their log. */
interface Backend {
  /** The configuration of an engine on it. */
  env: Record<string, string>;
  /** The store an engine runs on, where its configuration cannot open one (a connection to the shared log). */
  store?: () => EventStore;
  /** A log holding a record's event without a partition key (written before ownership), for one engine. */
  unpartitioned(): Promise<{ env: Record<string, string>; store?: () => EventStore; cleanup(): Promise<void> }>;
  cleanup(): Promise<void>;
}

/**
 * Two engines on one log sharing the records by partition, the consumer group's assignment played by hand:
 * each reacts to its own records only, a hand-over moves reactions, timers and publishing, and nothing is
 * done twice. Runs on PostgreSQL (leases in sessions, atomic units) and on the leases on streams EventStoreDB
 * uses (units not atomic).
 */
function describeOwnership(name: string, backend: () => Backend): void {
  describe(`ownership by partition: two engines share the records of one log (${name})`, () => {
    const dirs: string[] = [];
    const clock = new FakeClock(T0);
    let a: EngineRuntime;
    let b: EngineRuntime;
    let on: Backend;

    const engine = async (env = on.env, store = on.store): Promise<EngineRuntime> => {
      const dir = mkdtempSync(join(tmpdir(), 'lifeline-owners-'));
      dirs.push(dir);
      const config = loadConfig({ LIFELINE_DATA_DIR: dir, LIFELINE_TIMER_TICK_MS: '0', LOG_LEVEL: 'silent', ...env });
      // Kafka's consumer group is played by hand (assign), so the source stays HTTP.
      const runtime = await EngineRuntime.create(
        { ...config, ownership: 'partitions' },
        { clock, logger: silent, ...(store ? { store: store() } : {}) },
      );
      try {
        await runtime.start();
      } catch (error) {
        await runtime.close();
        throw error;
      }
      return runtime;
    };

    beforeAll(async () => {
      on = backend();
      a = await engine();
      b = await engine();
    });

    afterAll(async () => {
      await a?.close();
      await b?.close();
      for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
      await on?.cleanup();
    });

    const log = (): Promise<StoredEvent[]> => a.store.readAll(0, 100_000);
    const count = async (type: string) => (await log()).filter((e) => e.type === type).length;
    const until = async (what: string, done: () => Promise<boolean>) => {
      const deadline = Date.now() + 20_000;
      while (!(await done())) {
        if (Date.now() > deadline) throw new Error(`${what}: not reached`);
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
    };
    const owned = (runtime: EngineRuntime) => runtime.ownership!.health().partitions;
    const messages = (runtime: EngineRuntime) => (runtime.outbound!.publisher as InProcessOutboundPublisher).messages();
    const messageIds = (runtime: EngineRuntime) => messages(runtime).map((m) => m.headers.messageId);

    it('each engine reacts to, fires the timers of and publishes for its own partitions, across a hand-over', async () => {
      a.ownership!.assign({ partitionCount: COUNT, partitions: [0, 1, 2, 3] });
      b.ownership!.assign({ partitionCount: COUNT, partitions: [] });
      await until('A owns every partition', async () => owned(a).length === COUNT);

      await a.definitions.publish(JSON.stringify(DEFINITION), 'application/json', 'root');
      await a.ingest.record(
        Array.from({ length: RECORDS }, (_, n) => ({ envelope: order(n, 0), source: { kind: 'http' } })),
      );
      await until('every order waits', async () => (await count('WaitStarted')) === RECORDS);
      expect(b.reactor.decided).toBe(0);

      // The group moves partitions 2 and 3 to B: B takes them once A has handed them over.
      a.ownership!.assign({ partitionCount: COUNT, partitions: [0, 1] });
      b.ownership!.assign({ partitionCount: COUNT, partitions: [2, 3] });
      await until('B owns 2 and 3', async () => owned(b).join() === '2,3' && owned(a).join() === '0,1');

      // Half the orders reach step 3 (recorded through B, whoever owns them); the rest time out.
      for (let step = 1; step <= 3; step++) {
        await b.ingest.record(
          Array.from({ length: RECORDS / 2 }, (_, n) => ({ envelope: order(n, step), source: { kind: 'http' } })),
        );
      }
      await until('half the waits satisfied', async () => (await count('WaitSatisfied')) === RECORDS / 2);
      clock.advance(2 * HOUR);
      await until('the other half timed out', async () => {
        await Promise.all([a.reactions.tick(), b.reactions.tick()]);
        return (await count('WaitTimedOut')) === RECORDS / 2;
      });
      await until('every order done', async () => (await count('InstanceCompleted')) === RECORDS);
      // A few more ticks: a timer fired twice would show now.
      for (let i = 0; i < 3; i++) await Promise.all([a.reactions.tick(), b.reactions.tick()]);

      const events = await log();
      const perInstance = new Map<string, string[]>();
      for (const e of events.filter((e) => e.streamId.startsWith('instance-'))) {
        perInstance.set(e.streamId, [...(perInstance.get(e.streamId) ?? []), e.type]);
      }
      expect(perInstance.size).toBe(RECORDS);
      for (const types of perInstance.values()) {
        expect(types.filter((t) => t === 'InstanceStarted')).toHaveLength(1);
        expect(types.filter((t) => t === 'InstanceCompleted')).toHaveLength(1);
        expect(types.filter((t) => t === 'WaitTimedOut').length).toBeLessThanOrEqual(1);
      }
      expect(events.filter((e) => e.type === 'WaitTimedOut')).toHaveLength(RECORDS / 2);

      // Every message once across both engines, each by the owner of its record at the time.
      const all = [...messageIds(a), ...messageIds(b)];
      expect(new Set(all).size).toBe(all.length);
      const emitted = events.filter((e) => e.type === 'MessageEmitted').length;
      expect(
        messages(a).filter((m) => m.topic === 'orders').length + messages(b).filter((m) => m.topic === 'orders').length,
      ).toBe(emitted);
      expect(emitted).toBe(RECORDS + RECORDS / 2);
      // Each engine published the late notices of its own records only (B's since the hand-over).
      const recordOf = new Map(
        events
          .filter((e) => e.type === 'InstanceStarted')
          .map((e) => [e.streamId.slice('instance-'.length), (e.data as { entity: { id: string } }).entity.id]),
      );
      const lateRecords = (runtime: EngineRuntime) =>
        messages(runtime)
          .map((m) => JSON.parse(m.value) as { type: string; instanceId: string })
          .filter((m) => m.type === 'OrderLate')
          .map((m) => Number(recordOf.get(m.instanceId)!.slice('O-'.length)));
      expect(lateRecords(a).length + lateRecords(b).length).toBe(RECORDS / 2);
      for (const n of lateRecords(b)) expect([2, 3]).toContain(partitionOfOrder(n));
      for (const n of lateRecords(a)) expect([0, 1]).toContain(partitionOfOrder(n));
      expect(lateRecords(b).length).toBeGreaterThan(0);

      // Each engine's position reaches the head (it passes over the others' events), and nothing waits to be published.
      const head = await a.store.headPosition();
      for (const runtime of [a, b]) {
        expect(await runtime.reactions.caughtUpTo(head, 5_000)).toBe(true);
        await until('the relay passed the head', async () => runtime.outbound!.relay.checkpoint() >= head);
        expect(await runtime.outbound!.relay.backlog(1_000)).toBe(0);
      }

      // No event was decided on twice: together the engines decided about as many events as the log holds.
      const decided = a.reactor.decided + b.reactor.decided;
      expect(decided).toBeLessThanOrEqual(events.length);
      expect(decided).toBeGreaterThanOrEqual(events.length - 1); // the definition is folded, never decided
    });

    it('an engine that owns a partition again keeps what it folded: the timers it gave up come back and fire once', async () => {
      a.ownership!.assign({ partitionCount: COUNT, partitions: [0, 1, 2, 3] });
      b.ownership!.assign({ partitionCount: COUNT, partitions: [] });
      await until('A owns every partition', async () => owned(a).length === COUNT && owned(b).length === 0);
      const waiting = await count('WaitStarted');
      const timedOut = await count('WaitTimedOut');
      const fresh = Array.from({ length: 12 }, (_, n) => 100 + n);
      await a.ingest.record(fresh.map((n) => ({ envelope: order(n, 0), source: { kind: 'http' } })));
      await until('the new orders wait', async () => (await count('WaitStarted')) === waiting + fresh.length);

      // 2 and 3 go to B and come back to A with nothing recorded meanwhile: only A's own state knows their timers.
      a.ownership!.assign({ partitionCount: COUNT, partitions: [0, 1] });
      b.ownership!.assign({ partitionCount: COUNT, partitions: [2, 3] });
      await until('B owns 2 and 3', async () => owned(b).join() === '2,3' && owned(a).join() === '0,1');
      const decidedByB = b.reactor.decided;
      b.ownership!.assign({ partitionCount: COUNT, partitions: [] });
      a.ownership!.assign({ partitionCount: COUNT, partitions: [0, 1, 2, 3] });
      await until('A owns every partition again', async () => owned(a).length === COUNT && owned(b).length === 0);
      expect(fresh.some((n) => [2, 3].includes(partitionOfOrder(n)))).toBe(true);

      clock.advance(2 * HOUR);
      await until('every new order timed out', async () => {
        await Promise.all([a.reactions.tick(), b.reactions.tick()]);
        return (await count('WaitTimedOut')) === timedOut + fresh.length;
      });
      for (let i = 0; i < 3; i++) await Promise.all([a.reactions.tick(), b.reactions.tick()]);
      expect(await count('WaitTimedOut')).toBe(timedOut + fresh.length);
      expect(b.reactor.decided).toBe(decidedByB);
    });

    it('refuses to share a log whose records have events without a partition key (written before): they would be nobody’s', async () => {
      const old = await on.unpartitioned();
      try {
        await expect(engine(old.env, old.store)).rejects.toMatchObject({
          code: 'OWNERSHIP.UNPARTITIONED_HISTORY',
          message: expect.stringContaining('stream entity-Order-O-1') as string,
        });
      } finally {
        await old.cleanup();
      }
    });
  });
}

/** A record's event as a version before ownership wrote it: no partition key. */
const unpartitionedEvent = {
  streamId: 'entity-Order-O-1',
  expectedRevision: 'any' as const,
  events: [
    {
      id: 'before-ownership',
      type: 'EntityEventRecorded',
      data: { envelope: order(1, 0), source: { kind: 'http' } },
      metadata: { correlationId: 'c', causationId: 'c', actor: 'app', at: T0 },
    },
  ],
};

describePostgres('ownership by partition on PostgreSQL', (url) => {
  const postgres = (schema: string) => ({
    LIFELINE_EVENT_STORE: 'postgres',
    LIFELINE_POSTGRES_URL: url,
    LIFELINE_POSTGRES_SCHEMA: schema,
  });
  describeOwnership('PostgreSQL', () => {
    const schema = uniqueTestSchema('owners');
    return {
      env: postgres(schema),
      unpartitioned: async () => {
        const old = uniqueTestSchema('owners_old');
        const store = await PostgresEventStore.connect(url, { schema: old });
        await store.append(unpartitionedEvent);
        await store.close();
        return { env: postgres(old), cleanup: () => dropTestSchema(url, old) };
      },
      cleanup: () => dropTestSchema(url, schema),
    };
  });
});

describeOwnership('leases on streams, units not atomic: EventStoreDB’s way, on the in-memory store', () => {
  const server = new PartitionedInMemoryEventStore({ ttlMs: 2_000 });
  return {
    env: {},
    store: () => server.connect({ ttlMs: 2_000 }),
    unpartitioned: async () => {
      const old = new PartitionedInMemoryEventStore({ ttlMs: 2_000 });
      await old.append(unpartitionedEvent);
      return { env: {}, store: () => old.connect({ ttlMs: 2_000 }), cleanup: () => old.close() };
    },
    cleanup: () => server.close(),
  };
});
