import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { SqliteEventStore } from '@lifeline/event-store';
import { EngineRuntime, FakeClock, loadConfig, MigrateInstancesCommand } from '@lifeline/engine';
import {
  activityHeatmap,
  listInstances,
  ReadModelDb,
  ReadModels,
  rebuildReadModels,
  type ActivityHeat,
} from '@lifeline/read-models';
import { MINUTE, T0 } from '@lifeline/testing';

const silent = pino({ level: 'silent' });

/** A triage, a sizing step that fails for huge claims (an incident), then two reviews in parallel and their join. */
const claim = `
key: claim
name: Claim
relatedEntity: Claim
triggers: [{ on: created }]
start: triage
activities:
  triage: { type: human, title: Triage, assignee: { role: clerk }, next: size }
  size: { type: automatic, set: { n: 'count(for i in 1..entity.size return i)' }, next: checks }
  checks: { type: parallel, branches: [assess, approve] }
  assess: { type: human, title: Assess, assignee: { role: clerk }, next: joined }
  approve: { type: human, title: Approve, assignee: { role: clerk }, next: joined }
  joined: { type: join, next: done }
  done: { type: end }
`;

const heat = (
  activityId: string,
  instances: number,
  incidents: number,
  entered: number,
  stays: number,
  meanMs: number | null,
  maxMs: number | null,
): ActivityHeat => ({ activityId, instances, incidents, entered, stays: { count: stays, meanMs, maxMs } });

describe('the activity heatmap, kept inline from the engine’s events on SQLite (FakeClock)', () => {
  let dir: string;
  let clock: FakeClock;
  let engine: EngineRuntime;
  let readModels: ReadModels;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'lifeline-heatmap-'));
    clock = new FakeClock(T0);
    engine = await EngineRuntime.create(
      loadConfig({ LIFELINE_DATA_DIR: dir, LIFELINE_TIMER_TICK_MS: '0', LOG_LEVEL: 'silent' }),
      { clock, logger: silent, store: SqliteEventStore.open(join(dir, 'events.db')) },
    );
    readModels = ReadModels.open(join(dir, 'read-models.sqlite'));
    engine.store.onCommitted((events) => readModels.applyCommitted(events));
    await engine.start();
    await readModels.start(engine.store);
    await engine.definitions.publish(claim, 'application/yaml', 'root');
  });

  afterEach(async () => {
    await readModels.close();
    await engine.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const created = (entityId: string, size: number) =>
    engine.ingest.record([
      {
        envelope: {
          id: `claim-${entityId}`,
          entityType: 'Claim',
          entityId,
          kind: 'created',
          occurredAt: T0,
          data: { size },
        },
        source: { kind: 'http' },
      },
    ]);
  const instanceOf = (entityId: string): string =>
    listInstances(readModels.db, { definitionKey: 'claim', entityId })[0]!.id;
  const complete = (entityId: string, activityId: string) => {
    const id = instanceOf(entityId);
    return engine.instances.execute(
      id,
      { type: 'CompleteTask', taskId: `${id}.${activityId}.1` },
      { id: 'carla', roles: ['clerk'] },
      { commandId: `complete-${entityId}-${activityId}`, correlationId: 'c', causationId: 'c' },
    );
  };

  it('given four claims at different activities, one with an incident and one through the parallel reviews, then each activity counts its lines, incidents, entries and exact stays; a rebuild from the log answers the same', async () => {
    await created('C1', 1); // T0
    clock.advance(5 * MINUTE);
    await created('C2', 1); // T0+5
    clock.advance(5 * MINUTE);
    await created('C3', 100_000_000); // T0+10
    await complete('C1', 'triage'); // C1: 10 min at triage, then both reviews
    clock.advance(15 * MINUTE);
    await complete('C2', 'triage'); // T0+25, C2: 20 min at triage, then both reviews
    clock.advance(5 * MINUTE);
    await complete('C1', 'assess'); // T0+30, C1's assess: 20 min; its line waits at the join
    clock.advance(10 * MINUTE);
    await complete('C3', 'triage'); // T0+40, C3: 30 min at triage, then an incident at size
    clock.advance(10 * MINUTE);
    await created('C4', 1); // T0+50
    clock.advance(10 * MINUTE);
    await complete('C1', 'approve'); // T0+60, C1's approve: 50 min; the join waited 30 min for it; C1 completes

    expect(listInstances(readModels.db, { definitionKey: 'claim', entityId: 'C3' })[0]!.incidents).toHaveLength(1);
    const expected = [
      // C2's two branches (the line that forked rests at the fork, not counted); C1's assess took 20 min.
      heat('approve', 1, 0, 2, 1, 50 * MINUTE, 50 * MINUTE),
      heat('assess', 1, 0, 2, 1, 20 * MINUTE, 20 * MINUTE),
      // The forking lines passed through at once.
      heat('checks', 0, 0, 2, 2, 0, 0),
      heat('done', 0, 0, 1, 0, null, null),
      // C1's assess branch waited 30 min at the join, its approve branch none.
      heat('joined', 0, 0, 2, 2, 15 * MINUTE, 30 * MINUTE),
      // C3 rests at size with its incident; C1 and C2 passed through.
      heat('size', 1, 1, 3, 2, 0, 0),
      // C4 is there; C1, C2 and C3 stayed 10, 20 and 30 min.
      heat('triage', 1, 0, 4, 3, 20 * MINUTE, 30 * MINUTE),
    ];
    expect(activityHeatmap(readModels.db, 'claim', 1)).toEqual({
      definitionKey: 'claim',
      version: 1,
      activities: expected,
    });
    expect(activityHeatmap(readModels.db, 'claim', 2).activities).toEqual([]);

    // Terminating C2 ends its branches' stays (35 min at both reviews by then) and removes them.
    clock.advance(5 * MINUTE);
    await engine.instances.execute(
      instanceOf('C2'),
      { type: 'TerminateInstance', reason: 'withdrawn' },
      { id: 'root', roles: ['admin'] },
      { commandId: 'terminate-c2', correlationId: 'c', causationId: 'c' },
    );
    const afterTermination = [
      heat('approve', 0, 0, 2, 2, 45 * MINUTE, 50 * MINUTE),
      heat('assess', 0, 0, 2, 2, 30 * MINUTE, 40 * MINUTE),
      ...expected.slice(2),
    ];
    expect(activityHeatmap(readModels.db, 'claim', 1).activities).toEqual(afterTermination);

    const rebuilt = join(dir, 'rebuilt.sqlite');
    await rebuildReadModels(engine.store, rebuilt);
    const db = ReadModelDb.open(rebuilt);
    try {
      expect(activityHeatmap(db.sql, 'claim', 1).activities).toEqual(afterTermination);
    } finally {
      db.close();
    }
  });

  it('given instances migrated to a version that renames their activity, then their lines and incidents count under the new version and id, and their stays end there', async () => {
    await created('M1', 1); // T0, at triage
    await created('M2', 100_000_000); // T0, at triage
    clock.advance(10 * MINUTE);
    await complete('M2', 'triage'); // T0+10: M2 has an incident at size
    clock.advance(5 * MINUTE);
    await engine.definitions.publish(
      claim
        .replace(/triage/g, 'screen')
        .replace('size: { type: automatic', 'weigh: { type: automatic')
        .replace('next: size', 'next: weigh'),
      'application/yaml',
      'root',
    );
    const result = await engine.commands.migrateInstances.execute(
      new MigrateInstancesCommand(
        {
          definitionKey: 'claim',
          fromVersion: 1,
          toVersion: 2,
          mapping: { triage: 'screen', size: 'weigh' },
          instanceIds: [instanceOf('M1'), instanceOf('M2')],
          dryRun: false,
        },
        { id: 'root', roles: ['admin'] },
        { commandId: 'migrate', correlationId: 'c', causationId: 'c' },
      ),
    );
    expect(result).toMatchObject({ dryRun: false, cannotMove: [] });
    expect((result as { moved: string[] }).moved).toHaveLength(2);
    // Under v1: only what ended before the move (M2's 10 min at triage, its pass through size is under way).
    expect(activityHeatmap(readModels.db, 'claim', 1).activities).toEqual([
      heat('size', 0, 0, 1, 0, null, null),
      heat('triage', 0, 0, 2, 1, 10 * MINUTE, 10 * MINUTE),
    ]);
    expect(activityHeatmap(readModels.db, 'claim', 2).activities).toEqual([
      heat('screen', 1, 0, 0, 0, null, null),
      heat('weigh', 1, 1, 0, 0, null, null),
    ]);
    // M1 leaves screen 20 min after it entered triage: the stay counts under v2's activity.
    clock.advance(5 * MINUTE);
    await complete('M1', 'triage'); // the task keeps the id it was created with
    const v2 = activityHeatmap(readModels.db, 'claim', 2).activities;
    expect(v2.find((a) => a.activityId === 'screen')).toEqual(heat('screen', 0, 0, 0, 1, 20 * MINUTE, 20 * MINUTE));
  });
});
