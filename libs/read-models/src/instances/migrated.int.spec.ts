import { ReadModelFixture } from '../testing/read-model-fixture';
import { entityTimeline } from '../entity-timeline/entity-timeline.queries';
import { getJob } from '../jobs/jobs.queries';
import { getTask } from '../task-list/task-list.queries';
import { getInstance, instancesToMigrate } from './instances.queries';

/** The read models follow an InstanceMigrated: the version, the activity entered last, open tasks, jobs and incidents. */
describe('read models after InstanceMigrated', () => {
  let rm: ReadModelFixture;
  beforeEach(() => {
    rm = new ReadModelFixture();
  });
  afterEach(() => rm.dispose());

  const entity = { type: 'Claim', id: 'C-1' };
  const start = (instanceId: string, entityType = 'Claim') =>
    rm.log.instance(instanceId, {
      type: 'InstanceStarted',
      data: {
        instanceId,
        definitionKey: 'claim',
        definitionVersion: 1,
        definitionName: 'Claim',
        entity: { type: entityType, id: 'C-1' },
        variables: {},
        cause: { kind: 'api' },
      },
    });
  const task = (instanceId: string, activityId: string) => {
    rm.log.instance(instanceId, { type: 'ActivityEntered', data: { activityId, activityType: 'human', visit: 1 } });
    rm.log.instance(instanceId, {
      type: 'TaskCreated',
      data: {
        taskId: `${instanceId}.${activityId}.1`,
        activityId,
        title: 'Review',
        assignee: { role: 'accounting' },
        startAt: rm.log.now(),
        rule: { role: 'accounting' },
      },
    });
  };
  const migrated = (instanceId: string, mapping: Record<string, string>) =>
    rm.log.instance(instanceId, {
      type: 'InstanceMigrated',
      data: { fromVersion: 1, toVersion: 2, mapping, by: 'ada', entity },
    });

  it('the instance row shows v2 and the renamed activity and incident; open tasks and jobs their new activity', () => {
    start('i-1');
    task('i-1', 'review');
    rm.log.instance('i-1', {
      type: 'ActivityEntered',
      data: { activityId: 'charge', activityType: 'service', visit: 1 },
    });
    rm.log.instance('i-1', {
      type: 'JobCreated',
      data: { jobId: 'j-1', activityId: 'charge', visit: 1, jobType: 'payment', retries: 3, inputs: {}, entity },
    });
    rm.log.instance('i-1', {
      type: 'IncidentRaised',
      data: { incidentId: 'charge-1', activityId: 'charge', code: 'X', message: 'failed' },
    });
    rm.project();
    expect(instancesToMigrate(rm.sql, { definitionKey: 'claim', definitionVersion: 1 })).toEqual(['i-1']);

    migrated('i-1', { review: 'assess', charge: 'collect' });
    rm.project();
    expect(getInstance(rm.sql, 'i-1')).toMatchObject({
      definitionVersion: 2,
      currentActivity: 'collect',
      status: 'incident',
      incidents: [{ incidentId: 'charge-1', activityId: 'collect', code: 'X' }],
      positions: [{ token: 'main', activityId: 'collect', activityType: 'service' }],
    });
    expect(getTask(rm.sql, 'i-1.review.1')).toMatchObject({ id: 'i-1.review.1', activityId: 'assess', status: 'new' });
    expect(getJob(rm.sql, 'j-1')).toMatchObject({ jobId: 'j-1', activityId: 'collect' });
    expect(instancesToMigrate(rm.sql, { definitionKey: 'claim', definitionVersion: 1 })).toEqual([]);
    expect(instancesToMigrate(rm.sql, { definitionKey: 'claim', definitionVersion: 2 })).toEqual(['i-1']);
    expect(entityTimeline(rm.sql, 'Claim', 'C-1').map((e) => e.summary)).toContain(
      'Process migrated from v1 to v2 by ada: review → assess, charge → collect',
    );
  });

  it('an instance started and migrated in one batch is inserted with the new version; a completed task keeps its activity', () => {
    start('i-2');
    task('i-2', 'review');
    rm.log.instance('i-2', {
      type: 'TaskCompleted',
      data: { taskId: 'i-2.review.1', activityId: 'review', user: 'alice', fields: {} },
    });
    task('i-2', 'approve');
    migrated('i-2', { review: 'assess', approve: 'signOff' });
    rm.project();
    expect(getInstance(rm.sql, 'i-2')).toMatchObject({ definitionVersion: 2, currentActivity: 'signOff' });
    expect(getTask(rm.sql, 'i-2.review.1')).toMatchObject({ activityId: 'review', status: 'completed' });
    expect(getTask(rm.sql, 'i-2.approve.1')).toMatchObject({ activityId: 'signOff' });
  });

  it('the selection: running and suspended instances of the version, optionally at an activity and of a record type', () => {
    start('i-1');
    task('i-1', 'review');
    start('i-2');
    task('i-2', 'approve');
    rm.log.instance('i-2', { type: 'InstanceSuspended', data: { by: 'root' } });
    start('i-3', 'Invoice');
    task('i-3', 'review');
    start('i-4');
    rm.log.instance('i-4', { type: 'InstanceTerminated', data: { by: 'root' } });
    // A parallel instance rests at two activities at once: selected by either, though it entered `legal` last.
    start('i-5');
    rm.log.instance('i-5', {
      type: 'BranchesForked',
      data: {
        activityId: 'split',
        visit: 1,
        forkId: 'split.1',
        branches: [
          { token: 'split.1.0', next: 'review' },
          { token: 'split.1.1', next: 'legal' },
        ],
      },
    });
    for (const [activityId, token] of [
      ['review', 'split.1.0'],
      ['legal', 'split.1.1'],
    ] as const) {
      rm.log.instance('i-5', { type: 'ActivityEntered', data: { activityId, activityType: 'human', visit: 1, token } });
    }
    rm.project();
    const select = (extra: { activity?: string; entityType?: string } = {}) =>
      instancesToMigrate(rm.sql, { definitionKey: 'claim', definitionVersion: 1, ...extra });
    expect(select()).toEqual(['i-1', 'i-2', 'i-3', 'i-5']);
    expect(select({ activity: 'review' })).toEqual(['i-1', 'i-3', 'i-5']);
    expect(select({ activity: 'legal' })).toEqual(['i-5']);
    expect(select({ entityType: 'Claim' })).toEqual(['i-1', 'i-2', 'i-5']);
    expect(select({ activity: 'review', entityType: 'Invoice' })).toEqual(['i-3']);
  });
});
