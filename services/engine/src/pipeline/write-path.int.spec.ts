import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { InMemoryEventStore, SqliteEventStore, type EventStore } from '@lifeline/event-store';
import {
  decodeInstanceEvent,
  instanceDecider,
  streams,
  type EntityEventEnvelope,
  type InstanceEvent,
} from '@lifeline/process-domain';
import { invoiceApproval, T0, MINUTE, DAY } from '@lifeline/testing';
import { EngineRuntime } from '../engine-runtime';
import { FakeClock } from '../shared/clock';
import { loadConfig } from '../shared/config';
import { instanceIdFor } from '../shared/ids';
import { handleCommand, StateCache } from './handle';

const silent = pino({ level: 'silent' });

const invoice = (
  id: string,
  kind: EntityEventEnvelope['kind'],
  data: Record<string, unknown>,
): EntityEventEnvelope => ({
  id,
  entityType: 'Invoice',
  entityId: 'INV-7',
  kind,
  occurredAt: T0,
  data,
  ...(kind === 'updated' ? { changed: Object.keys(data) } : {}),
});
const http = { kind: 'http' as const };

/** The write path on both stores with atomic units: the in-memory one (no file) and the SQLite one. */
describe.each([
  // The in-memory store runs its units one after another; the SQLite store groups those of one event-loop turn.
  ['the in-memory store', (): EventStore => new InMemoryEventStore(), [4, 4, 4]],
  // (No time budget: how the commits are grouped must not depend on how fast a loaded machine runs the units.)
  [
    'the SQLite store',
    (dir: string): EventStore =>
      SqliteEventStore.open(join(dir, 'events.db'), { commitBudgetMs: Number.POSITIVE_INFINITY }),
    [12],
  ],
])('the write path on %s, driven by a FakeClock', (_name, openStore, commitSizes) => {
  let dir: string;
  let clock: FakeClock;
  let engine: EngineRuntime;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'lifeline-write-path-'));
    clock = new FakeClock(T0);
    engine = await EngineRuntime.create(
      loadConfig({ LIFELINE_DATA_DIR: dir, LIFELINE_TIMER_TICK_MS: '0', LOG_LEVEL: 'silent' }),
      { clock, logger: silent, store: openStore(dir) },
    );
    await engine.start();
    await engine.definitions.publish(JSON.stringify(invoiceApproval()), 'application/json', 'root');
  });

  afterEach(async () => {
    await engine.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const instanceOf = async (envelopeId: string): Promise<InstanceEvent[]> => {
    const recorded = (await engine.store.readStream('entity-Invoice-INV-7')).find(
      (e) => e.type === 'EntityEventRecorded' && (e.data as { envelope: { id: string } }).envelope.id === envelopeId,
    );
    if (!recorded) return [];
    const id = instanceIdFor(envelopeId, 'invoice-approval', recorded.metadata.at);
    return (await engine.store.readStream(streams.instance(id))).map(decodeInstanceEvent);
  };

  it('given an entity event, when it is recorded, then the instance it starts is in the same commit, before the caller is answered', async () => {
    const seen: string[][] = [];
    engine.store.onCommitted((events) => seen.push(events.map((e) => e.type)));
    const outcome = await engine.ingest.record([
      { envelope: invoice('evt-1', 'created', { amount: 10 }), source: http },
    ]);
    expect(seen).toEqual([['EntityEventRecorded', 'InstanceStarted', 'ActivityEntered', 'TaskCreated']]);
    expect(outcome).toEqual({ position: 1 + 1, recorded: 1, duplicates: 0 });
    expect((await instanceOf('evt-1')).map((e) => e.type)).toEqual([
      'InstanceStarted',
      'ActivityEntered',
      'TaskCreated',
    ]);
    expect(engine.reactions.position()).toBe(await engine.store.headPosition());
  });

  it('given the same envelope twice, then it is recorded and reacted to once', async () => {
    await engine.ingest.record([{ envelope: invoice('evt-1', 'created', { amount: 10 }), source: http }]);
    const head = await engine.store.headPosition();
    const again = await engine.ingest.record([{ envelope: invoice('evt-1', 'created', { amount: 10 }), source: http }]);
    expect(again).toMatchObject({ recorded: 0, duplicates: 1 });
    expect(await engine.store.headPosition()).toBe(head);
  });

  it('given requests at the same time, then each gets its own answer (and on SQLite they share one commit)', async () => {
    const commits: number[] = [];
    engine.store.onCommitted((events) => commits.push(events.length));
    const answers = await Promise.all(
      [1, 2, 3].map((i) =>
        engine.ingest.record([
          { envelope: { ...invoice(`evt-${i}`, 'created', { amount: i }), entityId: `INV-${i}` }, source: http },
        ]),
      ),
    );
    expect(answers.map((a) => a.recorded)).toEqual([1, 1, 1]);
    expect(commits).toEqual(commitSizes);
  });

  it('given an approved invoice waiting for clearance, when the record is cleared in the same batch as another update, then the wait resumes with the newer data', async () => {
    await engine.ingest.record([
      { envelope: invoice('evt-1', 'created', { amount: 10, ownerId: 'alice' }), source: http },
    ]);
    const [, , task] = await instanceOf('evt-1');
    const taskId = (task as Extract<InstanceEvent, { type: 'TaskCreated' }>).data.taskId;
    await engine.instances.execute(
      taskId.split('.')[0]!,
      { type: 'CompleteTask', taskId, result: 'Approve' },
      { id: 'bob', roles: ['accounting'] },
      { commandId: 'complete-1', correlationId: 'c', causationId: 'c' },
    );
    expect((await instanceOf('evt-1')).at(-1)).toMatchObject({
      type: 'WaitStarted',
      data: { activityId: 'awaitClearance' },
    });
    await engine.ingest.record([
      { envelope: invoice('evt-2', 'updated', { amount: 10, ownerId: 'alice', status: 'Checked' }), source: http },
      {
        envelope: invoice('evt-3', 'updated', { amount: 10, ownerId: 'alice', status: 'ClearedForPayment' }),
        source: http,
      },
    ]);
    const events = await instanceOf('evt-1');
    expect(events.slice(-3).map((e) => e.type)).toEqual(['WaitSatisfied', 'ActivityEntered', 'TaskCreated']);
    expect(events.filter((e) => e.type === 'WaitSatisfied')).toEqual([
      expect.objectContaining({ data: expect.objectContaining({ entityEventId: 'evt-3' }) }),
    ]);
    expect(events.at(-1)).toMatchObject({ data: { activityId: 'pay', assignee: { user: 'alice' } } });
  });

  it('given a wait with a timeout, when the clock passes it and the tick runs, then the timeout path is taken once', async () => {
    await engine.ingest.record([
      { envelope: invoice('evt-1', 'created', { amount: 10, ownerId: 'alice' }), source: http },
    ]);
    const [, , task] = await instanceOf('evt-1');
    const taskId = (task as Extract<InstanceEvent, { type: 'TaskCreated' }>).data.taskId;
    await engine.instances.execute(
      taskId.split('.')[0]!,
      { type: 'CompleteTask', taskId, result: 'Approve' },
      { id: 'bob', roles: ['accounting'] },
      { commandId: 'complete-1', correlationId: 'c', causationId: 'c' },
    );
    clock.advance(30 * DAY - MINUTE);
    await engine.reactions.tick();
    expect((await instanceOf('evt-1')).some((e) => e.type === 'WaitTimedOut')).toBe(false);
    clock.advance(2 * MINUTE);
    await engine.reactions.tick();
    await engine.reactions.tick();
    const events = await instanceOf('evt-1');
    expect(events.filter((e) => e.type === 'WaitTimedOut')).toHaveLength(1);
    expect(events.at(-1)).toMatchObject({ type: 'InstanceCompleted', data: { endActivityId: 'done' } });
  });

  it('given events appended by another writer, when the next unit runs, then the reactor catches up with them first, in log order', async () => {
    // Another process (an API without the reactor, the CLI) appends straight to the store.
    await engine.store.append({
      streamId: 'entity-Invoice-INV-7',
      expectedRevision: 'any',
      events: [
        {
          id: 'from-elsewhere',
          type: 'EntityEventRecorded',
          data: { envelope: invoice('evt-9', 'created', { amount: 5 }), source: http },
          metadata: { correlationId: 'x', causationId: 'x', actor: 'app', at: T0 },
        },
      ],
    });
    expect(await instanceOf('evt-9')).toEqual([]);
    await engine.reactions.tick();
    expect((await instanceOf('evt-9')).map((e) => e.type)).toEqual([
      'InstanceStarted',
      'ActivityEntered',
      'TaskCreated',
    ]);
  });
});

describe('handleCommand, the one pipeline', () => {
  it('given a conflicting writer, when it appends first, then the command decides again on its events and keeps the cache only for what committed', async () => {
    const store = new InMemoryEventStore();
    const cache = new StateCache<ReturnType<typeof instanceDecider.initialState>>(10);
    const definition = invoiceApproval();
    const start = {
      type: 'StartInstance' as const,
      instanceId: 'i1',
      definitionKey: 'invoice-approval',
      definitionVersion: 1,
      entity: { type: 'Invoice', id: 'INV-7' },
      variables: {},
      cause: { kind: 'api' as const },
    };
    const request = (command: Parameters<typeof instanceDecider.decide>[1], commandId: string) => ({
      streamId: 'instance-i1',
      decider: instanceDecider,
      command,
      context: () => ({
        now: T0,
        actor: { id: 'root', roles: ['admin'] },
        definition,
        definitionVersion: 1,
        entityData: {},
      }),
      decode: decodeInstanceEvent,
      origin: { commandId, correlationId: 'c', causationId: 'c' },
      actor: 'root',
      at: T0,
      cache,
    });
    await store.unitOfWork((tx) => handleCommand(tx, request(start, 'start')));
    expect(cache.get('instance-i1')?.revision).toBe(2);
    const taskId = 'i1.review.1';
    // A unit that claims the task then throws: nothing committed, the cache does not move.
    await expect(
      store.unitOfWork(async (tx) => {
        await handleCommand(tx, request({ type: 'ClaimTask', taskId }, 'claim-1'));
        throw new Error('rolled back');
      }),
    ).rejects.toThrow('rolled back');
    expect(cache.get('instance-i1')?.revision).toBe(2);
    // Another writer claims it; the command then decides on that and claiming again by the same user is a no-op.
    await store.unitOfWork((tx) =>
      handleCommand(tx, {
        ...request({ type: 'ClaimTask', taskId }, 'claim-by-other'),
        context: () => ({
          now: T0,
          actor: { id: 'root', roles: ['admin'] },
          definition,
          definitionVersion: 1,
          entityData: {},
        }),
      }),
    );
    const again = await store.unitOfWork((tx) => handleCommand(tx, request({ type: 'ClaimTask', taskId }, 'claim-2')));
    expect(again.events).toEqual([]);
    expect((await store.readStream('instance-i1')).map((e) => e.type)).toEqual([
      'InstanceStarted',
      'ActivityEntered',
      'TaskCreated',
      'TaskClaimed',
    ]);
    await store.close();
  });
});

/** The distributed schedule (as with EventStoreDB): no atomic units, so a checkpointed subscription feeds the reactor. */
describe('the reactions fed by a subscription, on a store without atomic units', () => {
  let dir: string;
  let clock: FakeClock;
  let engine: EngineRuntime;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'lifeline-write-path-loose-'));
    clock = new FakeClock(T0);
    engine = await EngineRuntime.create(
      loadConfig({ LIFELINE_DATA_DIR: dir, LIFELINE_TIMER_TICK_MS: '0', LOG_LEVEL: 'silent' }),
      { clock, logger: silent, store: new InMemoryEventStore({ atomicUnits: false }) },
    );
    await engine.start();
    await engine.definitions.publish(JSON.stringify(invoiceApproval()), 'application/json', 'root');
  });

  afterEach(async () => {
    await engine.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const settle = async () => {
    for (;;) {
      const head = await engine.store.headPosition();
      expect(await engine.reactions.caughtUpTo(head, 5_000)).toBe(true);
      if ((await engine.store.headPosition()) === head) return head;
    }
  };

  it('given entity events, then the same reactions follow (asynchronously), each once, and the state lives in the engine file', async () => {
    expect(engine.reactions.inline).toBe(false);
    await engine.ingest.record([
      { envelope: invoice('evt-1', 'created', { amount: 10, ownerId: 'alice' }), source: http },
      { envelope: { ...invoice('evt-2', 'created', { amount: 0 }), entityId: 'INV-8' }, source: http },
    ]);
    const head = await settle();
    const all = await engine.store.readAll(0, 1_000);
    expect(all.filter((e) => e.type === 'InstanceStarted')).toHaveLength(1);
    expect(all.filter((e) => e.type === 'TaskCreated')).toHaveLength(1);
    expect(engine.reactions.position()).toBe(head);
    // Handling the log again from the start appends nothing: every command's ids are deterministic.
    engine.engineDb.sql.exec('DELETE FROM reactor_meta; DELETE FROM reactor_records; DELETE FROM reactor_definitions');
    await engine.reactions.stop();
    engine.reactions.start();
    await settle();
    expect(await engine.store.headPosition()).toBe(head);
  });

  it('given a wait with a timeout, when the clock passes it, then the tick fires it once', async () => {
    await engine.ingest.record([
      { envelope: invoice('evt-1', 'created', { amount: 10, ownerId: 'alice' }), source: http },
    ]);
    await settle();
    const task = (await engine.store.readAll(0, 1_000)).find((e) => e.type === 'TaskCreated')!;
    const taskId = (task.data as { taskId: string }).taskId;
    await engine.instances.execute(
      taskId.split('.')[0]!,
      { type: 'CompleteTask', taskId, result: 'Approve' },
      { id: 'bob', roles: ['accounting'] },
      { commandId: 'complete-1', correlationId: 'c', causationId: 'c' },
    );
    await settle();
    clock.advance(31 * DAY);
    await engine.reactions.tick();
    await engine.reactions.tick();
    await settle();
    const events = await engine.store.readStream(task.streamId);
    expect(events.filter((e) => e.type === 'WaitTimedOut')).toHaveLength(1);
    expect(events.at(-1)?.type).toBe('InstanceCompleted');
  });
});
