import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { SqliteEventStore } from '@lifeline/event-store';
import { decodeInstanceEvent, streams, type EntityEventEnvelope, type InstanceEvent } from '@lifeline/process-domain';
import { T0, MINUTE, DAY } from '@lifeline/testing';
import { EngineRuntime } from '../engine-runtime';
import { FakeClock } from '../shared/clock';
import { loadConfig } from '../shared/config';
import { instanceIdFor } from '../shared/ids';

const silent = pino({ level: 'silent' });

/** Payment and packing run in parallel: a wait on the record (with a timeout) beside a human task. */
const shipment = `
key: shipment
name: Shipment
relatedEntity: Order
triggers: [{ on: created }]
start: split
activities:
  split: { type: parallel, branches: [paid, packed, pack] }
  paid: { type: wait, until: entity.paid = true, timeout: P2D, onTimeout: remind, next: both }
  remind: { type: automatic, set: { reminded: 'true' }, next: both }
  packed: { type: wait, until: entity.packed = true, next: both }
  pack: { type: human, title: Pack the order, assignee: { role: warehouse }, next: both }
  both: { type: join, next: done }
  done: { type: end }
`;

const order = (id: string, kind: EntityEventEnvelope['kind'], data: Record<string, unknown>): EntityEventEnvelope => ({
  id,
  entityType: 'Order',
  entityId: 'O-1',
  kind,
  occurredAt: T0,
  data,
  ...(kind === 'updated' ? { changed: Object.keys(data) } : {}),
});
const http = { kind: 'http' as const };

describe('parallel branches through the engine on a SQLite store, driven by a FakeClock', () => {
  let dir: string;
  let clock: FakeClock;
  let engine: EngineRuntime;

  const open = async (): Promise<EngineRuntime> => {
    const runtime = await EngineRuntime.create(
      loadConfig({ LIFELINE_DATA_DIR: dir, LIFELINE_TIMER_TICK_MS: '0', LOG_LEVEL: 'silent' }),
      { clock, logger: silent, store: SqliteEventStore.open(join(dir, 'events.db')) },
    );
    await runtime.start();
    return runtime;
  };

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'lifeline-parallel-'));
    clock = new FakeClock(T0);
    engine = await open();
    await engine.definitions.publish(shipment, 'application/yaml', 'root');
  });

  afterEach(async () => {
    await engine.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const instanceId = async (): Promise<string> => {
    const recorded = (await engine.store.readStream('entity-Order-O-1')).find((e) => e.type === 'EntityEventRecorded')!;
    return instanceIdFor('evt-1', 'shipment', recorded.metadata.at);
  };
  const history = async (): Promise<InstanceEvent[]> =>
    (await engine.store.readStream(streams.instance(await instanceId()))).map(decodeInstanceEvent);
  const shape = (events: InstanceEvent[]): string[] =>
    events.map((e) => {
      const d = e.data as { activityId?: string; token?: string };
      return `${e.type}${d.activityId !== undefined ? `(${d.activityId}${d.token !== undefined ? `@${d.token}` : ''})` : ''}`;
    });
  const completePack = async () => {
    const id = await instanceId();
    await engine.instances.execute(
      id,
      { type: 'CompleteTask', taskId: `${id}.pack.1` },
      { id: 'wendy', roles: ['warehouse'] },
      { commandId: 'complete-pack', correlationId: 'c', causationId: 'c' },
    );
  };

  it('given three branches, when one record update satisfies both waits, then both lines move in one command and wait at the join for the task', async () => {
    await engine.ingest.record([{ envelope: order('evt-1', 'created', {}), source: http }]);
    expect(shape(await history())).toEqual([
      'InstanceStarted',
      'ActivityEntered(split)',
      'BranchesForked(split)',
      'ActivityEntered(paid@split.1.0)',
      'WaitStarted(paid@split.1.0)',
      'ActivityEntered(packed@split.1.1)',
      'WaitStarted(packed@split.1.1)',
      'ActivityEntered(pack@split.1.2)',
      'TaskCreated(pack@split.1.2)',
    ]);
    await engine.ingest.record([{ envelope: order('evt-2', 'updated', { paid: true, packed: true }), source: http }]);
    expect(shape((await history()).slice(9))).toEqual([
      'WaitSatisfied(paid)',
      'ActivityEntered(both@split.1.0)',
      'WaitSatisfied(packed)',
      'ActivityEntered(both@split.1.1)',
    ]);
    await completePack();
    expect(shape((await history()).slice(13))).toEqual([
      'TaskClaimed',
      'TaskCompleted(pack)',
      'ActivityEntered(both@split.1.2)',
      'BranchesJoined(both)',
      'ActivityEntered(done)',
      'InstanceCompleted',
    ]);
  });

  it('given a restart between the steps, when one wait times out and the other is satisfied later, then each line moves once and the instance completes', async () => {
    await engine.ingest.record([{ envelope: order('evt-1', 'created', {}), source: http }]);
    await engine.close();
    engine = await open();
    clock.advance(2 * DAY - MINUTE);
    await engine.reactions.tick();
    expect((await history()).some((e) => e.type === 'WaitTimedOut')).toBe(false);
    clock.advance(2 * MINUTE);
    await engine.reactions.tick();
    await engine.reactions.tick();
    expect(shape((await history()).slice(9))).toEqual([
      'WaitTimedOut(paid)',
      'ActivityEntered(remind@split.1.0)',
      'VariablesSet(remind)',
      'ActivityEntered(both@split.1.0)',
    ]);
    await engine.close();
    engine = await open();
    // The packed line still waits on the record after the restart; the paid line no longer does.
    await engine.ingest.record([{ envelope: order('evt-2', 'updated', { paid: true, packed: true }), source: http }]);
    await completePack();
    const events = await history();
    expect(events.filter((e) => e.type === 'WaitSatisfied').map((e) => e.data.activityId)).toEqual(['packed']);
    expect(events.filter((e) => e.type === 'WaitTimedOut')).toHaveLength(1);
    expect(events.at(-1)).toMatchObject({ type: 'InstanceCompleted', data: { endActivityId: 'done' } });
  });

  it('given two parallel tasks, when two people complete them at the same moment, then the join fires once', async () => {
    await engine.definitions.publish(
      `
key: approvals
name: Approvals
relatedEntity: Order
triggers: [{ on: created }]
start: split
activities:
  split: { type: parallel, branches: [finance, legal] }
  finance: { type: human, title: Finance, assignee: { role: finance }, next: both }
  legal: { type: human, title: Legal, assignee: { role: legal }, next: both }
  both: { type: join, next: done }
  done: { type: end }
`,
      'application/yaml',
      'root',
    );
    await engine.ingest.record([{ envelope: { ...order('evt-9', 'created', {}), entityId: 'O-9' }, source: http }]);
    const recorded = (await engine.store.readStream('entity-Order-O-9')).find((e) => e.type === 'EntityEventRecorded')!;
    const id = instanceIdFor('evt-9', 'approvals', recorded.metadata.at);
    const complete = (activity: string, user: string, role: string) =>
      engine.instances.execute(
        id,
        { type: 'CompleteTask', taskId: `${id}.${activity}.1` },
        { id: user, roles: [role] },
        { commandId: `complete-${activity}`, correlationId: 'c', causationId: 'c' },
      );
    await Promise.all([complete('finance', 'fiona', 'finance'), complete('legal', 'leo', 'legal')]);
    const events = (await engine.store.readStream(streams.instance(id))).map(decodeInstanceEvent);
    expect(events.filter((e) => e.type === 'BranchesJoined')).toHaveLength(1);
    expect(events.filter((e) => e.type === 'InstanceCompleted')).toHaveLength(1);
    expect(
      events
        .filter((e) => e.type === 'TaskCompleted')
        .map((e) => e.data.activityId)
        .sort(),
    ).toEqual(['finance', 'legal']);
  });
});
