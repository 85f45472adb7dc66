import { MigrateInstancesCommand } from '../engine.commands';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { SqliteEventStore } from '@lifeline/event-store';
import {
  decodeInstanceEvent,
  streams,
  type Actor,
  type EntityEventEnvelope,
  type InstanceEvent,
} from '@lifeline/process-domain';
import { T0, MINUTE, DAY } from '@lifeline/testing';
import { EngineRuntime } from '../engine-runtime';
import { FakeClock } from '../shared/clock';
import { loadConfig } from '../shared/config';
import { instanceIdFor } from '../shared/ids';

const silent = pino({ level: 'silent' });

const v1 = `
key: payment
name: Payment
relatedEntity: Order
triggers: [{ on: created }]
start: awaitPay
activities:
  awaitPay: { type: wait, until: entity.paid = true, timeout: P2D, next: done }
  done: { type: end }
`;
/** v2 renames the wait and sends a timeout to a reminder first. */
const v2 = `
key: payment
name: Payment
relatedEntity: Order
triggers: [{ on: created }]
start: awaitPayment
activities:
  awaitPayment: { type: wait, until: entity.paid = true, timeout: P2D, onTimeout: remind, next: done }
  remind: { type: automatic, set: { reminded: 'true' }, next: done }
  done: { type: end }
`;

const order = (id: string, data: Record<string, unknown>): EntityEventEnvelope => ({
  id,
  entityType: 'Order',
  entityId: 'O-1',
  kind: 'created',
  occurredAt: T0,
  data,
});
const admin: Actor = { id: 'ada', roles: ['admin'] };
const origin = (n: string) => ({
  commandId: `migrate-${n}`,
  correlationId: `migrate-${n}`,
  causationId: `migrate-${n}`,
});

describe('migrating a waiting instance through the engine (SQLite store, FakeClock)', () => {
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
    dir = mkdtempSync(join(tmpdir(), 'lifeline-migrate-'));
    clock = new FakeClock(T0);
    engine = await open();
    await engine.definitions.publish(v1, 'application/yaml', 'root');
    await engine.ingest.record([{ envelope: order('evt-1', {}), source: { kind: 'http' } }]);
    await engine.definitions.publish(v2, 'application/yaml', 'root');
  });

  afterEach(async () => {
    await engine.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const instanceId = async (): Promise<string> => {
    const recorded = (await engine.store.readStream('entity-Order-O-1')).find((e) => e.type === 'EntityEventRecorded')!;
    return instanceIdFor('evt-1', 'payment', recorded.metadata.at);
  };
  const history = async (): Promise<(InstanceEvent & { actor: string })[]> =>
    (await engine.store.readStream(streams.instance(await instanceId()))).map((e) => ({
      ...decodeInstanceEvent(e),
      actor: e.metadata.actor,
    }));
  const request = async (dryRun: boolean) => ({
    definitionKey: 'payment',
    fromVersion: 1,
    toVersion: 2,
    mapping: { awaitPay: 'awaitPayment' },
    instanceIds: [await instanceId()],
    dryRun,
  });

  it('given a wait with a timeout migrated to v2, when the clock passes the timeout, then it fires once, on the v2 activity, and follows v2', async () => {
    const id = await instanceId();
    expect(
      await engine.commands.migrateInstances.execute(
        new MigrateInstancesCommand(await request(true), admin, origin('dry')),
      ),
    ).toEqual({
      dryRun: true,
      movable: [id],
      cannotMove: [],
    });
    expect((await history()).map((e) => e.type)).not.toContain('InstanceMigrated');

    expect(
      await engine.commands.migrateInstances.execute(
        new MigrateInstancesCommand(await request(false), admin, origin('real')),
      ),
    ).toEqual({
      dryRun: false,
      moved: [id],
      cannotMove: [],
    });
    const migrated = (await history()).find((e) => e.type === 'InstanceMigrated');
    expect(migrated).toMatchObject({
      actor: 'ada',
      data: { fromVersion: 1, toVersion: 2, mapping: { awaitPay: 'awaitPayment' }, by: 'ada' },
    });

    clock.advance(2 * DAY - MINUTE);
    await engine.reactions.tick();
    expect((await history()).some((e) => e.type === 'WaitTimedOut')).toBe(false);

    // A restart in between: the renamed timer is in the reactor's persisted state, not only in memory.
    await engine.close();
    engine = await open();
    clock.advance(2 * MINUTE);
    await engine.reactions.tick();
    await engine.reactions.tick();
    clock.advance(DAY);
    await engine.reactions.tick();
    const after = (await history()).slice((await history()).findIndex((e) => e.type === 'InstanceMigrated') + 1);
    expect(after.map((e) => `${e.type}${'activityId' in e.data ? `(${String(e.data.activityId)})` : ''}`)).toEqual([
      'WaitTimedOut(awaitPayment)',
      'ActivityEntered(remind)',
      'VariablesSet(remind)',
      'ActivityEntered(done)',
      'InstanceCompleted',
    ]);
  });

  it('given the instance migrated already, when migrated again, then it is listed as cannot move: already on v2; a refusal writes nothing', async () => {
    const id = await instanceId();
    await engine.commands.migrateInstances.execute(
      new MigrateInstancesCommand(await request(false), admin, origin('first')),
    );
    const head = await engine.store.headPosition();
    expect(
      await engine.commands.migrateInstances.execute(
        new MigrateInstancesCommand(await request(false), admin, origin('second')),
      ),
    ).toMatchObject({
      moved: [],
      cannotMove: [{ instanceId: id, code: 'MIGRATION.ALREADY_ON_VERSION', reasons: [] }],
    });
    expect(await engine.store.headPosition()).toBe(head);
  });

  it('given two admins migrating the same instance at once, then one moves it and the other finds it already on v2', async () => {
    const id = await instanceId();
    const root: Actor = { id: 'root', roles: ['admin'] };
    const [a, b] = await Promise.all([
      engine.commands.migrateInstances.execute(new MigrateInstancesCommand(await request(false), admin, origin('a'))),
      engine.commands.migrateInstances.execute(new MigrateInstancesCommand(await request(false), root, origin('b'))),
    ]);
    const answers = [a, b].map((r) => (r.dryRun ? [] : [r.moved.length, r.cannotMove.map((c) => c.code)]));
    expect(answers.sort()).toEqual([
      [0, ['MIGRATION.ALREADY_ON_VERSION']],
      [1, []],
    ]);
    const migrated = (await history()).filter((e) => e.type === 'InstanceMigrated');
    expect(migrated).toHaveLength(1);
    expect(migrated[0]!.actor).toBe(!a.dryRun && a.moved.includes(id) ? 'ada' : 'root');
  });

  it('given a mapping to an activity v2 lacks, then the instance cannot move, with the reason by activity', async () => {
    const id = await instanceId();
    const bad = { ...(await request(false)), mapping: { awaitPay: 'nowhere' } };
    expect(
      await engine.commands.migrateInstances.execute(new MigrateInstancesCommand(bad, admin, origin('bad'))),
    ).toEqual({
      dryRun: false,
      moved: [],
      cannotMove: [
        {
          instanceId: id,
          code: 'MIGRATION.NOT_POSSIBLE',
          message: expect.stringContaining('nowhere') as string,
          reasons: [
            {
              activityId: 'awaitPay',
              to: 'nowhere',
              problem: 'UNKNOWN_ACTIVITY',
              message: 'nowhere is not an activity of the target version',
            },
          ],
        },
      ],
    });
  });

  it('given an unknown target version, then DEFINITION.NOT_FOUND before any instance is looked at', async () => {
    await expect(
      engine.commands.migrateInstances.execute(
        new MigrateInstancesCommand({ ...(await request(false)), toVersion: 9 }, admin, origin('nine')),
      ),
    ).rejects.toMatchObject({ code: 'DEFINITION.NOT_FOUND' });
  });
});
