import { ReadModelFixture } from '../testing/read-model-fixture';
import { getInstance, listInstances } from './instances.queries';

describe('instances', () => {
  let rm: ReadModelFixture;
  beforeEach(() => {
    rm = new ReadModelFixture();
  });
  afterEach(() => rm.dispose());

  const start = (instanceId: string, entityId = 'INV-7', definitionKey = 'invoice-approval') =>
    rm.log.instance(instanceId, {
      type: 'InstanceStarted',
      data: {
        instanceId,
        definitionKey,
        definitionVersion: 3,
        definitionName: 'Invoice approval',
        entity: { type: 'Invoice', id: entityId },
        variables: { amount: 1200 },
        cause: { kind: 'trigger', entityEventId: 'evt-1', triggerIndex: 0, delayed: false },
      },
    });

  it('records the start, the current activity and merged variables', () => {
    start('i-1');
    rm.log.instance('i-1', {
      type: 'ActivityEntered',
      data: { activityId: 'review', activityType: 'human', visit: 1 },
    });
    rm.log.instance('i-1', {
      type: 'VariablesSet',
      data: { activityId: 'escalate', variables: { escalated: 'true' } },
    });
    rm.log.instance('i-1', { type: 'VariablesSet', data: { activityId: 'escalate', variables: { amount: 1300 } } });
    rm.log.instance('i-1', {
      type: 'WaitStarted',
      data: { activityId: 'await', visit: 1, entity: { type: 'Invoice', id: 'INV-7' } },
    });
    const last = rm.log.events.at(-1)!;
    rm.project();

    expect(getInstance(rm.sql, 'i-1')).toEqual({
      id: 'i-1',
      definitionKey: 'invoice-approval',
      definitionVersion: 3,
      definitionName: 'Invoice approval',
      entity: { type: 'Invoice', id: 'INV-7' },
      status: 'running',
      currentActivity: 'review',
      // The wait started for another activity leaves the main line at the review, as the instance's state does.
      positions: [{ token: 'main', activityId: 'review', activityType: 'human', since: '2026-11-21T10:00:00.000Z' }],
      variables: { amount: 1300, escalated: 'true' },
      incidents: [],
      startedAt: '2026-11-21T10:00:00.000Z',
      endedAt: null,
      cause: { kind: 'trigger', entityEventId: 'evt-1', triggerIndex: 0, delayed: false },
      lastPosition: last.position,
    });
  });

  it("merges a worker's variables from a completed job and from a business error", () => {
    start('i-1');
    rm.log.instance('i-1', {
      type: 'JobCompleted',
      data: { jobId: 'j-1', activityId: 'charge', workerId: 'w1', variables: { chargeId: 'ch_1' } },
    });
    rm.log.instance('i-1', {
      type: 'JobErrorThrown',
      data: { jobId: 'j-2', activityId: 'charge', workerId: 'w1', code: 'DECLINED', variables: { reason: 'funds' } },
    });
    rm.project();
    expect(getInstance(rm.sql, 'i-1')?.variables).toEqual({ amount: 1200, chargeId: 'ch_1', reason: 'funds' });
  });

  it('shows incident while a running instance has open incidents, and suspended over it', () => {
    start('i-1');
    rm.log.instance('i-1', {
      type: 'IncidentRaised',
      data: { incidentId: 'x-1', activityId: 'route', code: 'FEEL.ERROR', message: 'bad' },
    });
    rm.project();
    expect(getInstance(rm.sql, 'i-1')).toMatchObject({
      status: 'incident',
      incidents: [
        { incidentId: 'x-1', activityId: 'route', code: 'FEEL.ERROR', message: 'bad', raisedAt: rm.log.now() },
      ],
    });
    expect(listInstances(rm.sql, { hasIncident: true }).map((i) => i.id)).toEqual(['i-1']);

    rm.log.instance('i-1', { type: 'InstanceSuspended', data: { by: 'root' } });
    rm.project();
    expect(getInstance(rm.sql, 'i-1')?.status).toBe('suspended');

    rm.log.instance('i-1', { type: 'InstanceResumed', data: { by: 'root' } });
    rm.project();
    expect(getInstance(rm.sql, 'i-1')?.status).toBe('incident');

    rm.log.instance('i-1', { type: 'IncidentResolved', data: { incidentId: 'x-1', activityId: 'route', by: 'root' } });
    rm.project();
    expect(getInstance(rm.sql, 'i-1')).toMatchObject({ status: 'running', incidents: [] });
    expect(listInstances(rm.sql, { hasIncident: true })).toEqual([]);
  });

  it('ends as completed or terminated with the end time', () => {
    start('i-1');
    start('i-2', 'INV-8');
    rm.log.advance(5000);
    rm.log.instance('i-1', { type: 'InstanceCompleted', data: { endActivityId: 'done' } });
    rm.log.instance('i-2', { type: 'InstanceTerminated', data: { by: 'root', reason: 'duplicate' } });
    rm.project();

    expect(getInstance(rm.sql, 'i-1')).toMatchObject({
      status: 'completed',
      currentActivity: 'done',
      endedAt: '2026-11-21T10:00:05.000Z',
    });
    expect(getInstance(rm.sql, 'i-2')).toMatchObject({ status: 'terminated', endedAt: '2026-11-21T10:00:05.000Z' });
  });

  it('filters by definition, record and status, newest first, with paging', () => {
    start('i-1', 'INV-7');
    start('i-2', 'INV-8', 'purchase-order');
    start('i-3', 'INV-7');
    rm.log.instance('i-3', { type: 'InstanceTerminated', data: { by: 'root' } });
    rm.project();

    expect(listInstances(rm.sql).map((i) => i.id)).toEqual(['i-3', 'i-2', 'i-1']);
    expect(listInstances(rm.sql, { entityType: 'Invoice', entityId: 'INV-7' }).map((i) => i.id)).toEqual([
      'i-3',
      'i-1',
    ]);
    expect(listInstances(rm.sql, { definitionKey: 'purchase-order' }).map((i) => i.id)).toEqual(['i-2']);
    expect(listInstances(rm.sql, { status: 'running' }).map((i) => i.id)).toEqual(['i-2', 'i-1']);
    expect(listInstances(rm.sql, { limit: 1, offset: 1 }).map((i) => i.id)).toEqual(['i-2']);
    expect(getInstance(rm.sql, 'nope')).toBeUndefined();
  });

  it('gives the same rows whether a batch holds the starts and their changes or each event comes alone', () => {
    start('i-1', 'INV-1');
    start('i-2', 'INV-2');
    rm.log.instance('i-2', {
      type: 'ActivityEntered',
      data: { activityId: 'review', activityType: 'human', visit: 1 },
    });
    rm.log.instance('i-1', { type: 'VariablesSet', data: { activityId: 'calc', variables: { total: 5 } } });
    start('i-3', 'INV-3');
    // A start repeated for an instance already started is ignored; what follows it still applies.
    start('i-1', 'INV-9');
    rm.log.instance('i-1', { type: 'ActivityEntered', data: { activityId: 'check', activityType: 'human', visit: 1 } });
    rm.log.instance('i-3', {
      type: 'IncidentRaised',
      data: { incidentId: 'inc-1', activityId: 'calc', code: 'X', message: 'no' },
    });
    rm.log.instance('i-2', { type: 'InstanceCompleted', data: { endActivityId: 'done' } });
    rm.project();

    const alone = new ReadModelFixture();
    try {
      for (const event of rm.log.events) alone.projector.applyBatch([event]);
      expect(listInstances(rm.sql)).toEqual(listInstances(alone.sql));
      expect(listInstances(rm.sql).map((i) => [i.id, i.entity.id, i.status, i.currentActivity])).toEqual([
        ['i-3', 'INV-3', 'incident', null],
        ['i-2', 'INV-2', 'completed', 'done'],
        ['i-1', 'INV-1', 'running', 'check'],
      ]);
      expect(getInstance(rm.sql, 'i-1')?.variables).toEqual({ amount: 1200, total: 5 });
      expect(getInstance(rm.sql, 'i-1')?.lastPosition).toBe(7);
    } finally {
      alone.dispose();
    }
  });
});
