import { RetryStartCommand } from '../engine.commands';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import type { StoredEvent } from '@lifeline/event-store';
import type { EntityEventEnvelope, InstanceEvent, StartFailed } from '@lifeline/process-domain';
import { EngineDb } from '../shared/engine-db';
import { EngineRuntime } from '../engine-runtime';
import { FakeClock } from '../shared/clock';
import { loadConfig } from '../shared/config';
import { deterministicUuid, instanceIdFor } from '../shared/ids';

/**
 * The process manager on a real SQLite store with a fake clock, flooded with good and poisoned
 * entity events: nothing halts it, every good start happens, every poisoned one is visible.
 */

const T0 = '2026-11-21T10:00:00.000Z';
const MINUTE = 60_000;
const silent = pino({ level: 'silent' });
const admin = { id: 'root', roles: ['admin'] };

/** Every Order starts `good`: the start each poisoned event must not take down. */
const good = {
  key: 'good',
  name: 'Good',
  relatedEntity: 'Order',
  triggers: [{ on: 'created' }],
  start: 'check',
  activities: {
    check: { type: 'human', title: 'Check the order', assignee: { role: 'clerks' }, dueIn: 'P2D', next: 'done' },
    done: { type: 'end' },
  },
};

/** Published through the API: its trigger condition fails at run time for orders of size 100,000,000. */
const bomb = {
  key: 'bomb',
  name: 'Bomb',
  relatedEntity: 'Order',
  triggers: [{ on: 'created', when: 'entity.kind = "bomb" and count(for i in 1..entity.size return i) > 0' }],
  start: 'look',
  activities: {
    look: { type: 'human', title: 'Look', assignee: { role: 'clerks' }, next: 'done' },
    done: { type: 'end' },
  },
};

/** Definitions stored before durations were bounded (or before validation caught them): old data. */
const legacy = (key: string, activities: Record<string, unknown>, trigger: Record<string, unknown> = {}) => ({
  key,
  name: key,
  relatedEntity: 'Order',
  executionOrder: 100,
  enabled: true,
  triggers: [{ on: 'created', when: `entity.kind = "${key}"`, ...trigger }],
  start: 'first',
  activities: { ...activities, done: { type: 'end' } },
});
const LEGACY = [
  legacy('due', {
    first: { type: 'human', title: 'Due', assignee: { role: 'clerks' }, dueIn: 'P99999999Y', next: 'done' },
  }),
  legacy('timeout', { first: { type: 'wait', timeout: 'P99999999D', next: 'done' } }),
  legacy(
    'delay',
    { first: { type: 'human', title: 'Later', assignee: { role: 'clerks' }, next: 'done' } },
    { delay: 'P99999999Y' },
  ),
  // A malformed activity (no assignee) makes the decider throw a TypeError: a bug-shaped poison.
  legacy('broken', { first: { type: 'human', title: 'Broken', next: 'done' } }),
  // Starts fine and waits; resuming the wait runs into the malformed activity.
  legacy('waiting', {
    first: { type: 'wait', until: 'entity.status = "go"', next: 'broken' },
    broken: { type: 'human', title: 'Broken', next: 'done' },
  }),
];

const KINDS = ['plain', 'due', 'bomb', 'timeout', 'delay', 'broken'] as const;

function envelope(i: number): EntityEventEnvelope {
  const kind = KINDS[i % KINDS.length]!;
  return {
    id: `order-${i}`,
    entityType: 'Order',
    entityId: `O-${i}`,
    kind: 'created',
    occurredAt: T0,
    data: { kind, size: kind === 'bomb' ? 100_000_000 : 1 },
  };
}

describe('process manager: one poisoned event never halts it', () => {
  let dataDir: string;
  let runtime: EngineRuntime;
  const clock = new FakeClock(T0);

  const open = async () => {
    runtime = await EngineRuntime.create(
      loadConfig({ LIFELINE_DATA_DIR: dataDir, LIFELINE_TIMER_TICK_MS: '0', LOG_LEVEL: 'silent' }),
      { clock, logger: silent },
    );
    await runtime.start();
  };
  /** Until the process manager has handled the whole log (false if it did not get there). */
  const settle = async (): Promise<boolean> => {
    for (;;) {
      const head = await runtime.store.headPosition();
      if (!(await runtime.reactions.caughtUpTo(head, 5_000))) return false;
      if ((await runtime.store.headPosition()) === head) return true;
    }
  };
  /** The instance a trigger started for this envelope: its id derives from when the envelope was recorded. */
  const startedId = async (envelopeId: string, definitionKey: string): Promise<string> => {
    const recorded = (await runtime.store.readAll(0, 100_000)).find(
      (e) => e.type === 'EntityEventRecorded' && (e.data as { envelope: { id: string } }).envelope.id === envelopeId,
    );
    if (!recorded) throw new Error(`no entity event ${envelopeId}`);
    return instanceIdFor(envelopeId, definitionKey, recorded.metadata.at);
  };
  const instanceEvents = async (id: string): Promise<InstanceEvent[]> =>
    (await runtime.store.readStream(`instance-${id}`)).map((e) => ({ type: e.type, data: e.data }) as InstanceEvent);
  const recordEvents = (i: number): Promise<StoredEvent[]> => runtime.store.readStream(`entity-Order-O-${i}`);
  const failuresOf = async (i: number): Promise<StartFailed['data'][]> =>
    (await recordEvents(i)).filter((e) => e.type === 'StartFailed').map((e) => e.data as StartFailed['data']);

  const N = 60;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'lifeline-pm-failures-'));
    await open();
    await runtime.definitions.publish(JSON.stringify(good), 'application/json', 'root');
    await runtime.definitions.publish(JSON.stringify(bomb), 'application/json', 'root');
    for (const definition of LEGACY) {
      await runtime.store.append({
        streamId: `definition-${definition.key}`,
        expectedRevision: 'no-stream',
        events: [
          {
            id: deterministicUuid(`legacy:${definition.key}`),
            type: 'DefinitionPublished',
            data: { key: definition.key, version: 1, definition },
            metadata: { correlationId: 'legacy', causationId: 'legacy', actor: 'root', at: T0 },
          },
        ],
      });
    }
    expect(await settle()).toBe(true);
    // One ingest: the poisoned and the good events reach the process manager in the same batch.
    await runtime.ingest.record(
      Array.from({ length: N }, (_, i) => ({ envelope: envelope(i), source: { kind: 'http' } })),
    );
  }, 60_000);

  afterAll(async () => {
    await runtime?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('given good and poisoned events interleaved, when handled, then it catches up and its health stays ok', async () => {
    expect(await settle()).toBe(true);
    const health = runtime.reactions.health();
    expect(health.ok).toBe(true);
    expect(health.position).toBe(await runtime.store.headPosition());
    // bomb, delay, broken: failed starts (due and timeout start, their incidents are the decider's).
    expect(health.failures).toEqual({ recorded: (N / 6) * 3, unrecorded: 0 });
  });

  it('then every event started its good instance, at its task', async () => {
    for (let i = 0; i < N; i++) {
      const events = await instanceEvents(await startedId(`order-${i}`, 'good'));
      expect(events.map((e) => e.type)).toEqual(['InstanceStarted', 'ActivityEntered', 'TaskCreated']);
    }
  });

  it('then a legacy huge dueIn or wait timeout is an incident FLOW.INVALID_DURATION on its instance', async () => {
    for (let i = 0; i < N; i++) {
      const kind = KINDS[i % KINDS.length];
      if (kind !== 'due' && kind !== 'timeout') continue;
      const events = await instanceEvents(await startedId(`order-${i}`, kind));
      expect(events.map((e) => e.type)).toEqual(['InstanceStarted', 'ActivityEntered', 'IncidentRaised']);
      expect(events[2]!.data).toMatchObject({
        incidentId: 'first-1',
        activityId: 'first',
        code: 'FLOW.INVALID_DURATION',
      });
    }
  });

  it('then a failing trigger condition, a huge delay and a decider bug are each a StartFailed on the record', async () => {
    const expected = {
      bomb: { stage: 'trigger', code: 'FEEL.BUDGET_EXCEEDED', triggerIndex: 0 },
      delay: { stage: 'schedule', code: 'FLOW.INVALID_DURATION', triggerIndex: 0 },
      broken: { stage: 'start', code: 'ENGINE.UNEXPECTED', triggerIndex: 0 },
    } as const;
    for (let i = 0; i < N; i++) {
      const kind = KINDS[i % KINDS.length]!;
      const failures = await failuresOf(i);
      if (!(kind in expected)) {
        expect(failures).toEqual([]);
        continue;
      }
      expect(failures).toEqual([
        expect.objectContaining({
          ...expected[kind as keyof typeof expected],
          definitionKey: kind,
          entityEventId: `order-${i}`,
          instanceId: await startedId(`order-${i}`, kind),
        }),
      ]);
      expect(await instanceEvents(await startedId(`order-${i}`, kind))).toEqual([]);
    }
    expect((await failuresOf(5))[0]!.message).toMatch(/^TypeError: /);
  });

  it('given a wait whose resumption throws, when its record is updated, then that instance gets an incident and the rest of the batch goes on', async () => {
    const before = runtime.reactions.health().failures.recorded;
    const waiting = { ...envelope(1000), id: 'waiting-1', entityId: 'W-1', data: { kind: 'waiting' } };
    await runtime.ingest.record([{ envelope: waiting, source: { kind: 'http' } }]);
    expect(await settle()).toBe(true);
    await runtime.ingest.record([
      {
        envelope: { ...waiting, id: 'waiting-2', kind: 'updated', data: { kind: 'waiting', status: 'go' } },
        source: { kind: 'http' },
      },
      { envelope: envelope(1002), source: { kind: 'http' } },
    ]);
    expect(await settle()).toBe(true);
    const events = await instanceEvents(await startedId('waiting-1', 'waiting'));
    expect(events.map((e) => e.type)).toEqual(['InstanceStarted', 'ActivityEntered', 'WaitStarted', 'IncidentRaised']);
    expect(events[3]!.data).toMatchObject({
      incidentId: 'first-1',
      activityId: 'first',
      code: 'ENGINE.UNEXPECTED',
      message: expect.stringMatching(/^TypeError: /),
    });
    expect((await instanceEvents(await startedId('order-1002', 'good')))[0]?.type).toBe('InstanceStarted');
    expect(runtime.reactions.health()).toMatchObject({ ok: true, failures: { recorded: before + 1 } });
  });

  it('given the crash case, when the whole log is handled again from position 0, then nothing is written twice', async () => {
    const head = await runtime.store.headPosition();
    await runtime.close();
    const db = EngineDb.open(join(dataDir, 'engine.db'));
    db.setCheckpoint('process-manager', 0);
    db.close();
    await open();
    expect(await settle()).toBe(true);
    expect(await runtime.store.headPosition()).toBe(head);
    expect(runtime.reactions.health().ok).toBe(true);
  });

  it('given the definition fixed, when a failed start is retried, then the instance starts with the new version and the failure is closed', async () => {
    await runtime.definitions.publish(
      JSON.stringify({ ...bomb, triggers: [{ on: 'created', when: 'entity.kind = "bomb"' }] }),
      'application/json',
      'root',
    );
    const [failure] = await failuresOf(2);
    const entity = { type: 'Order', id: 'O-2' };
    const origin = { commandId: 'retry-1', correlationId: 'retry-1', causationId: 'retry-1' };
    const result = await runtime.commands.retryStart.execute(
      new RetryStartCommand(entity, failure!.failureId, admin, origin),
    );
    expect(result).toMatchObject({ outcome: 'started', definitionVersion: 2, instanceId: failure!.instanceId });
    const started = await instanceEvents(failure!.instanceId);
    expect(started[0]).toMatchObject({
      type: 'InstanceStarted',
      data: { definitionKey: 'bomb', definitionVersion: 2, cause: { kind: 'trigger', entityEventId: 'order-2' } },
    });
    expect((await recordEvents(2)).at(-1)).toMatchObject({
      type: 'StartRetried',
      data: { failureId: failure!.failureId, by: 'root', outcome: 'started' },
    });
    await expect(
      runtime.commands.retryStart.execute(
        new RetryStartCommand(entity, failure!.failureId, admin, { ...origin, commandId: 'retry-2' }),
      ),
    ).rejects.toMatchObject({
      code: 'START_FAILURE.ALREADY_RETRIED',
    });
    expect(await settle()).toBe(true);
    expect(runtime.reactions.health().ok).toBe(true);
  });

  it('given a legacy delay still unfixed, when retried, then it is refused with the reason and the failure stays open', async () => {
    const [failure] = await failuresOf(4);
    const origin = { commandId: 'retry-3', correlationId: 'retry-3', causationId: 'retry-3' };
    await expect(
      runtime.commands.retryStart.execute(
        new RetryStartCommand({ type: 'Order', id: 'O-4' }, failure!.failureId, admin, origin),
      ),
    ).rejects.toMatchObject({
      code: 'START_FAILURE.FAILED_AGAIN',
      message: expect.stringContaining('FLOW.INVALID_DURATION'),
    });
    expect((await recordEvents(4)).some((e) => e.type === 'StartRetried')).toBe(false);
  });
});

describe('delayed starts of a deactivated definition', () => {
  let dataDir: string;
  let runtime: EngineRuntime;
  let clock: FakeClock;

  const later = {
    key: 'later',
    name: 'Later',
    relatedEntity: 'Ticket',
    triggers: [{ on: 'created', delay: 'PT10M' }],
    start: 'look',
    activities: {
      look: { type: 'human', title: 'Look again', assignee: { role: 'support' }, next: 'done' },
      done: { type: 'end' },
    },
  };
  const settle = async () => {
    for (;;) {
      const head = await runtime.store.headPosition();
      expect(await runtime.reactions.caughtUpTo(head, 5_000)).toBe(true);
      if ((await runtime.store.headPosition()) === head) return;
    }
  };
  const ticket = (id: string): EntityEventEnvelope => ({
    id: `ticket-${id}`,
    entityType: 'Ticket',
    entityId: id,
    kind: 'created',
    occurredAt: T0,
    data: {},
  });
  const origin = { commandId: 'x', correlationId: 'x', causationId: 'x' };
  const deactivate = async () => {
    await runtime.definitions.execute('later', { type: 'DeactivateDefinition', key: 'later' }, 'root', {
      ...origin,
      commandId: `deactivate-${clock.nowIso()}`,
    });
  };
  const activate = async () => {
    await runtime.definitions.execute('later', { type: 'ActivateDefinition', key: 'later' }, 'root', {
      ...origin,
      commandId: `activate-${clock.nowIso()}`,
    });
  };
  /** The instance a trigger started for this envelope: its id derives from when the envelope was recorded. */
  const startedId = async (envelopeId: string, definitionKey: string): Promise<string> => {
    const recorded = (await runtime.store.readAll(0, 100_000)).find(
      (e) => e.type === 'EntityEventRecorded' && (e.data as { envelope: { id: string } }).envelope.id === envelopeId,
    );
    if (!recorded) throw new Error(`no entity event ${envelopeId}`);
    return instanceIdFor(envelopeId, definitionKey, recorded.metadata.at);
  };
  const advance = async (ms: number) => {
    clock.advance(ms);
    await settle();
    await runtime.reactions.tick();
    await settle();
  };

  beforeEach(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'lifeline-pm-delayed-'));
    clock = new FakeClock(T0);
    runtime = await EngineRuntime.create(
      loadConfig({ LIFELINE_DATA_DIR: dataDir, LIFELINE_TIMER_TICK_MS: '0', LOG_LEVEL: 'silent' }),
      { clock, logger: silent },
    );
    await runtime.start();
    await runtime.definitions.publish(JSON.stringify(later), 'application/json', 'root');
  });

  afterEach(async () => {
    await runtime.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('given a delayed start scheduled, when the definition is deactivated before it is due, then at the due time nothing starts and the skip is recorded; re-activating does not revive it', async () => {
    await runtime.ingest.record([{ envelope: ticket('T-1'), source: { kind: 'http' } }]);
    await settle();
    const record = () => runtime.store.readStream('entity-Ticket-T-1');
    expect((await record()).map((e) => e.type)).toEqual(['EntityEventRecorded', 'DelayedStartScheduled']);
    await deactivate();
    await advance(11 * MINUTE);
    const instanceId = await startedId('ticket-T-1', 'later');
    expect(await runtime.store.readStream(`instance-${instanceId}`)).toEqual([]);
    const events = await record();
    expect(events.map((e) => e.type)).toEqual(['EntityEventRecorded', 'DelayedStartScheduled', 'DelayedStartSkipped']);
    expect(events[2]!.data).toEqual({
      instanceId,
      definitionKey: 'later',
      definitionVersion: 1,
      entityEventId: 'ticket-T-1',
      startAt: '2026-11-21T10:10:00.000Z',
      reason: 'the definition is deactivated',
    });
    await activate();
    await advance(2 * MINUTE);
    await advance(2 * MINUTE);
    expect(await runtime.store.readStream(`instance-${instanceId}`)).toEqual([]);
    expect((await record()).length).toBe(3);
  });

  it('given deactivated and activated again before the due time, when it is due, then it starts', async () => {
    await runtime.ingest.record([{ envelope: ticket('T-2'), source: { kind: 'http' } }]);
    await settle();
    await deactivate();
    await advance(MINUTE);
    await activate();
    await advance(10 * MINUTE);
    const events = await runtime.store.readStream(`instance-${await startedId('ticket-T-2', 'later')}`);
    expect(events[0]).toMatchObject({ type: 'InstanceStarted', data: { cause: { delayed: true } } });
  });
});
