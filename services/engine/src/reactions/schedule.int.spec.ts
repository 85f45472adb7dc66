import { RetryStartCommand } from '../engine.commands';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import type { StoredEvent } from '@lifeline/event-store';
import type { InstanceStarted, ScheduleTicked } from '@lifeline/process-domain';
import { EngineRuntime } from '../engine-runtime';
import { FakeClock } from '../shared/clock';
import { loadConfig } from '../shared/config';
import { eventIdsFor, timeOrderedUuid } from '../shared/ids';

/**
 * Schedule triggers on a real SQLite store, driven by a fake clock: each tick starts one instance,
 * the schedule's state survives a restart, missed ticks fire once, and two engines on one file fire
 * a tick once.
 */

const silent = pino({ level: 'silent' });
const HOUR = 60 * 60 * 1000;
const WEEK = 7 * 24 * HOUR;
// Sunday noon; the audit is due at 07:00 Amsterdam on Mondays (06:00Z in winter).
const SUNDAY = '2026-11-29T12:00:00.000Z';
const TICK_1 = '2026-11-30T06:00:00.000Z';
const TICK_2 = '2026-12-07T06:00:00.000Z';

const weeklyAudit = (cron = '0 7 * * MON') => ({
  key: 'weekly-audit',
  name: 'Weekly audit',
  relatedEntity: 'Audit',
  triggers: [{ on: 'schedule', cron, timeZone: 'Europe/Amsterdam' }],
  start: 'check',
  activities: {
    check: { type: 'human', title: 'Audit the books', assignee: { role: 'auditors' }, next: 'done' },
    done: { type: 'end' },
  },
});

describe('schedule triggers on the SQLite store', () => {
  let dataDir: string;
  let clock: FakeClock;
  const runtimes: EngineRuntime[] = [];

  const open = async (): Promise<EngineRuntime> => {
    const runtime = await EngineRuntime.create(
      loadConfig({ LIFELINE_DATA_DIR: dataDir, LIFELINE_TIMER_TICK_MS: '0', LOG_LEVEL: 'silent' }),
      { clock, logger: silent },
    );
    await runtime.start();
    runtimes.push(runtime);
    return runtime;
  };
  const close = async (runtime: EngineRuntime) => {
    await runtime.close();
    runtimes.splice(runtimes.indexOf(runtime), 1);
  };
  const all = async (runtime: EngineRuntime): Promise<StoredEvent[]> => runtime.store.readAll(0, 100_000);
  const starts = async (runtime: EngineRuntime): Promise<InstanceStarted['data'][]> =>
    (await all(runtime)).filter((e) => e.type === 'InstanceStarted').map((e) => e.data as InstanceStarted['data']);
  const ticks = async (runtime: EngineRuntime): Promise<ScheduleTicked['data'][]> =>
    (await all(runtime)).filter((e) => e.type === 'ScheduleTicked').map((e) => e.data as ScheduleTicked['data']);
  const publish = (runtime: EngineRuntime, cron?: string) =>
    runtime.definitions.publish(JSON.stringify(weeklyAudit(cron)), 'application/json', 'root');
  const at = async (runtime: EngineRuntime, iso: string) => {
    clock.set(iso);
    await runtime.reactions.tick();
  };

  beforeEach(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'lifeline-schedule-'));
    clock = new FakeClock(SUNDAY);
  });
  afterEach(async () => {
    for (const runtime of [...runtimes]) await close(runtime);
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('given a weekly schedule, when the clock reaches the tick, then exactly one instance starts on the tick’s own record', async () => {
    const engine = await open();
    await publish(engine);
    await at(engine, '2026-11-30T05:59:59.000Z');
    expect(await starts(engine)).toEqual([]);

    await at(engine, TICK_1);
    await at(engine, '2026-11-30T06:00:30.000Z'); // a later timer tick of the same minute fires nothing more
    const started = await starts(engine);
    expect(started).toEqual([
      expect.objectContaining({
        definitionKey: 'weekly-audit',
        definitionVersion: 1,
        entity: { type: 'Audit', id: `schedule:weekly-audit:${TICK_1}` },
        cause: { kind: 'schedule', tick: TICK_1, triggerIndex: 0 },
      }),
    ]);
    expect(started[0]!.instanceId).toBe(timeOrderedUuid(`start:weekly-audit:schedule:weekly-audit:${TICK_1}`, TICK_1));
    const record = await engine.store.readStream(`entity-Audit-schedule:weekly-audit:${TICK_1}`);
    expect(record.map((e) => e.type)).toEqual(['ScheduleTicked']);
    expect(record[0]!.data).toMatchObject({ tick: TICK_1, nextTick: TICK_2, instanceId: started[0]!.instanceId });
    expect(engine.reactor.nextScheduleTick()).toBe(TICK_2);
  });

  it('given a restart between two ticks, then the second tick fires once and the first never again', async () => {
    const first = await open();
    await publish(first);
    await at(first, TICK_1);
    await close(first);

    clock.set('2026-12-03T12:00:00.000Z');
    const second = await open();
    expect(second.reactor.nextScheduleTick()).toBe(TICK_2);
    await at(second, '2026-12-03T12:00:01.000Z');
    expect((await starts(second)).map((s) => s.entity.id)).toEqual([`schedule:weekly-audit:${TICK_1}`]);
    await at(second, TICK_2);
    await close(second);

    const third = await open();
    await at(third, TICK_2);
    expect((await ticks(third)).map((t) => t.tick)).toEqual([TICK_1, TICK_2]);
    expect((await starts(third)).map((s) => s.entity.id)).toEqual([
      `schedule:weekly-audit:${TICK_1}`,
      `schedule:weekly-audit:${TICK_2}`,
    ]);
  });

  it('given five ticks missed while the engine was down, when it comes back, then one start: the latest tick', async () => {
    const first = await open();
    await publish(first);
    await close(first);

    clock.set(SUNDAY);
    clock.advance(5 * WEEK);
    const second = await open();
    await second.reactions.tick();
    await second.reactions.tick();
    expect(await ticks(second)).toEqual([
      expect.objectContaining({
        tick: '2026-12-28T06:00:00.000Z',
        skippedFrom: TICK_1,
        nextTick: '2027-01-04T06:00:00.000Z',
      }),
    ]);
    expect((await starts(second)).map((s) => s.cause)).toEqual([
      { kind: 'schedule', tick: '2026-12-28T06:00:00.000Z', triggerIndex: 0, skippedFrom: TICK_1 },
    ]);
  });

  it('given a cron of every second and a year of downtime, then one start', async () => {
    const first = await open();
    await publish(first, '* * * * * *');
    await close(first);

    clock.advance(365 * 24 * HOUR);
    const second = await open();
    await second.reactions.tick();
    expect(await starts(second)).toHaveLength(1);
    expect((await ticks(second))[0]).toMatchObject({
      tick: '2027-11-29T12:00:00.000Z',
      skippedFrom: '2026-11-29T12:00:01.000Z',
    });
  });

  it('given two engines on one store, when both fire the same tick, then it is recorded and started once', async () => {
    const a = await open();
    const b = await open();
    await publish(a);
    clock.set(TICK_1);
    await Promise.all([a.reactions.tick(), b.reactions.tick()]);
    await Promise.all([b.reactions.tick(), a.reactions.tick()]);
    expect(await ticks(a)).toHaveLength(1);
    expect(await starts(b)).toHaveLength(1);
  });

  it('given a tick recorded whose start never ran (the engine died between them), then the start happens once and the tick is not fired again', async () => {
    const first = await open();
    await publish(first);
    await close(first);

    // What an engine feeding its reactor from a subscription leaves behind if killed right after recording the tick.
    const bare = await open();
    const commandId = `schedule:weekly-audit:${TICK_1}`;
    const instanceId = timeOrderedUuid(`start:weekly-audit:schedule:weekly-audit:${TICK_1}`, TICK_1);
    const recordTick = () =>
      bare.store.append({
        streamId: `entity-Audit-schedule:weekly-audit:${TICK_1}`,
        expectedRevision: 'any',
        events: [
          {
            id: eventIdsFor(commandId, 1, 0, TICK_1)[0]!,
            type: 'ScheduleTicked',
            data: {
              definitionKey: 'weekly-audit',
              definitionVersion: 1,
              triggerIndex: 0,
              tick: TICK_1,
              instanceId,
              nextTick: TICK_2,
            },
            metadata: { correlationId: 'c', causationId: 'c', actor: 'system', at: TICK_1 },
          },
        ],
      });
    expect((await recordTick()).duplicate).toBe(false);
    await at(bare, TICK_1);
    await at(bare, '2026-11-30T07:00:00.000Z');
    // An engine that had not seen it yet (a lagging subscription) records it under the same id: nothing is appended.
    expect((await recordTick()).duplicate).toBe(true);
    expect(await ticks(bare)).toHaveLength(1);
    expect((await starts(bare)).map((s) => s.instanceId)).toEqual([instanceId]);
  });

  it('given a deactivated definition, then ticks start nothing; re-activated, it resumes at the next tick (no burst)', async () => {
    const engine = await open();
    await publish(engine);
    await engine.definitions.execute('weekly-audit', { type: 'DeactivateDefinition', key: 'weekly-audit' }, 'root');
    await at(engine, TICK_1);
    await at(engine, '2026-12-10T00:00:00.000Z');
    expect(await ticks(engine)).toEqual([]);

    await engine.definitions.execute('weekly-audit', { type: 'ActivateDefinition', key: 'weekly-audit' }, 'root');
    await at(engine, '2026-12-10T00:00:01.000Z');
    expect(await ticks(engine)).toEqual([]);
    await at(engine, '2026-12-14T06:00:00.000Z');
    expect(await ticks(engine)).toEqual([expect.not.objectContaining({ skippedFrom: expect.anything() })]);
    expect((await starts(engine)).map((s) => s.entity.id)).toEqual(['schedule:weekly-audit:2026-12-14T06:00:00.000Z']);
  });

  it('given a new version with another cron, then the schedule follows the new cron', async () => {
    const engine = await open();
    await publish(engine);
    await at(engine, TICK_1);
    await publish(engine, '0 9 * * *'); // daily 09:00 Amsterdam = 08:00Z
    await at(engine, '2026-11-30T08:00:00.000Z');
    expect((await starts(engine)).map((s) => [s.entity.id, s.definitionVersion])).toEqual([
      [`schedule:weekly-audit:${TICK_1}`, 1],
      ['schedule:weekly-audit:2026-11-30T08:00:00.000Z', 2],
    ]);
  });

  it('given a scheduled start that failed, when retried after a fix, then it starts the tick’s instance, caused by the schedule', async () => {
    const engine = await open();
    // Stored before validation caught it (no assignee): the start throws, a bug-shaped failure.
    const broken = {
      ...weeklyAudit(),
      executionOrder: 100,
      enabled: true,
      activities: { check: { type: 'human', title: 'Audit', next: 'done' }, done: { type: 'end' } },
    };
    await engine.store.append({
      streamId: 'definition-weekly-audit',
      expectedRevision: 'no-stream',
      events: [
        {
          id: eventIdsFor('legacy:weekly-audit', 1)[0]!,
          type: 'DefinitionPublished',
          data: { key: 'weekly-audit', version: 1, definition: broken },
          metadata: { correlationId: 'legacy', causationId: 'legacy', actor: 'root', at: SUNDAY },
        },
      ],
    });
    await at(engine, TICK_1);
    const record = `schedule:weekly-audit:${TICK_1}`;
    const failed = (await engine.store.readStream(`entity-Audit-${record}`)).find((e) => e.type === 'StartFailed');
    expect(failed?.data).toMatchObject({ stage: 'scheduled-start', definitionKey: 'weekly-audit', triggerIndex: 0 });
    expect(await starts(engine)).toEqual([]);

    await publish(engine);
    const { failureId } = failed!.data as { failureId: string };
    const retried = await engine.commands.retryStart.execute(
      new RetryStartCommand(
        { type: 'Audit', id: record },
        failureId,
        { id: 'root', roles: ['admin'] },
        {
          commandId: 'retry-1',
          causationId: 'retry-1',
          correlationId: 'retry-1',
        },
      ),
    );
    expect(retried).toMatchObject({ outcome: 'started', definitionVersion: 2 });
    expect(await starts(engine)).toEqual([
      expect.objectContaining({
        definitionVersion: 2,
        entity: { type: 'Audit', id: record },
        cause: { kind: 'schedule', tick: TICK_1, triggerIndex: 0 },
      }),
    ]);
  });
});
