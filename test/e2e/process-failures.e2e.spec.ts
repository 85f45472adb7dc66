import { startLifeline, type RunningLifeline } from '@lifeline/testing';

/**
 * Over HTTP: durations are bounded at publish; a start that fails is visible (timeline, the admins'
 * list of failed starts, /health stays ok) and retried once the definition is fixed; a delayed start
 * of a deactivated definition is skipped, visibly.
 */

const MINUTE = 60_000;

const review = (dueIn: string) => ({
  key: 'audit-review',
  name: 'Audit review',
  relatedEntity: 'Audit',
  triggers: [{ on: 'created' }],
  start: 'review',
  activities: {
    review: { type: 'human', title: 'Review', assignee: { role: 'accounting' }, dueIn, next: 'done' },
    done: { type: 'end' },
  },
});

const guarded = (when: string) => ({
  key: 'guarded',
  name: 'Guarded',
  relatedEntity: 'Parcel',
  triggers: [{ on: 'created', when }],
  start: 'weigh',
  activities: {
    weigh: { type: 'human', title: 'Weigh the parcel', assignee: { role: 'accounting' }, next: 'done' },
    done: { type: 'end' },
  },
});

const parcel = (id: string, size: number) => ({
  id: `parcel-${id}`,
  entityType: 'Parcel',
  entityId: id,
  kind: 'created',
  occurredAt: '2026-11-21T10:00:00Z',
  data: { size },
});

describe('failed starts and bounded durations over HTTP', () => {
  let lifeline: RunningLifeline;
  beforeEach(async () => {
    lifeline = await startLifeline({ demo: false });
  });
  afterEach(async () => {
    await lifeline.stop();
  });

  it('given a dueIn, delay or timeout longer than P100Y, when published, then 400 DEFINITION.INVALID names each path', async () => {
    const doc = {
      ...review('P99999999Y'),
      triggers: [{ on: 'created', delay: 'P36526D' }],
      activities: {
        review: { type: 'human', title: 'Review', assignee: { role: 'accounting' }, dueIn: 'P99999999Y', next: 'hold' },
        hold: { type: 'wait', timeout: 'PT876601H', next: 'done' },
        done: { type: 'end' },
      },
    };
    const refused = await lifeline.call('admin', 'POST', '/definitions', doc);
    expect(refused.status).toBe(400);
    expect(refused.body.error.code).toBe('DEFINITION.INVALID');
    expect(refused.body.error.details.map((d: { path: string }) => d.path)).toEqual([
      'triggers[0].delay',
      'activities.review.dueIn',
      'activities.hold.timeout',
    ]);
    expect(refused.body.error.details[1].message).toBe(
      "'P99999999Y' is longer than P100Y (100 years, the longest duration allowed)",
    );
    expect((await lifeline.call('admin', 'POST', '/definitions', review('P100Y'))).status).toBe(201);
  });

  it('given a trigger condition that fails at run time, when events arrive, then the failure is listed and on the timeline, the good ones start, and a retry after the fix starts the instance', async () => {
    const bomb = 'count(for i in 1..entity.size return i) > 0';
    expect((await lifeline.call('admin', 'POST', '/definitions', guarded(bomb))).status).toBe(201);
    const posted = await lifeline.call('app', 'POST', '/entity-events', [parcel('P-1', 100_000_000), parcel('P-2', 3)]);
    expect(posted.status).toBe(202);
    await lifeline.settle();

    const health = await lifeline.call(null, 'GET', '/health');
    expect(health.body).toMatchObject({ ok: true, reactions: { ok: true, failures: { recorded: 1 } } });
    expect(
      (await lifeline.call('bob', 'GET', '/tasks')).body.items.map((t: { entity: { id: string } }) => t.entity.id),
    ).toEqual(['P-2']);

    const list = await lifeline.call('admin', 'GET', '/start-failures?status=open');
    expect(list.status).toBe(200);
    expect(list.body.items).toEqual([
      expect.objectContaining({
        entity: { type: 'Parcel', id: 'P-1' },
        definitionKey: 'guarded',
        definitionVersion: 1,
        entityEventId: 'parcel-P-1',
        stage: 'trigger',
        code: 'FEEL.BUDGET_EXCEEDED',
        status: 'open',
        retry: null,
      }),
    ]);
    const failure = list.body.items[0];
    expect((await lifeline.call('bob', 'GET', '/start-failures')).status).toBe(403);

    const timeline = await lifeline.call('admin', 'GET', '/entities/Parcel/P-1/timeline');
    expect(timeline.body.items.map((e: { kind: string }) => e.kind)).toEqual(['EntityEventRecorded', 'StartFailed']);
    expect(timeline.body.items[1].summary).toMatch(/^Start of guarded failed \(trigger\): FEEL\.BUDGET_EXCEEDED: /);

    // Still broken: the retry answers why, and the failure stays open.
    const again = await lifeline.call('admin', 'POST', `/start-failures/${failure.failureId}/retry`);
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('START_FAILURE.FAILED_AGAIN');
    expect((await lifeline.call('bob', 'POST', `/start-failures/${failure.failureId}/retry`)).status).toBe(403);

    expect((await lifeline.call('admin', 'POST', '/definitions', guarded('entity.size > 0'))).body.version).toBe(2);
    const retried = await lifeline.call('admin', 'POST', `/start-failures/${failure.failureId}/retry`);
    expect(retried.status).toBe(200);
    expect(retried.body).toMatchObject({ outcome: 'started', definitionVersion: 2, instanceId: failure.instanceId });
    await lifeline.settle();

    const instance = await lifeline.call('admin', 'GET', `/instances/${failure.instanceId}`);
    expect(instance.body).toMatchObject({
      definitionVersion: 2,
      entity: { type: 'Parcel', id: 'P-1' },
      status: 'running',
    });
    const closed = await lifeline.call('admin', 'GET', '/start-failures');
    expect(closed.body.items[0]).toMatchObject({
      status: 'retried',
      retry: { by: 'admin', outcome: 'started', definitionVersion: 2, instanceId: failure.instanceId },
    });
    const twice = await lifeline.call('admin', 'POST', `/start-failures/${failure.failureId}/retry`);
    expect(twice.status).toBe(409);
    expect(twice.body.error.code).toBe('START_FAILURE.ALREADY_RETRIED');
    const unknown = await lifeline.call('admin', 'POST', '/start-failures/00000000-0000-4000-8000-000000000000/retry');
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.code).toBe('START_FAILURE.NOT_FOUND');
  });

  it('given a delayed start, when the definition is deactivated before it is due, then nothing starts and the record shows the skip', async () => {
    const delayed = { ...guarded('true'), triggers: [{ on: 'created', delay: 'PT10M' }] };
    expect((await lifeline.call('admin', 'POST', '/definitions', delayed)).status).toBe(201);
    await lifeline.call('app', 'POST', '/entity-events', parcel('P-9', 1));
    await lifeline.settle();
    expect((await lifeline.call('admin', 'POST', '/definitions/guarded/deactivate')).status).toBe(200);
    await lifeline.advance(11 * MINUTE);
    expect((await lifeline.call('admin', 'POST', '/definitions/guarded/activate')).status).toBe(200);
    await lifeline.advance(5 * MINUTE);

    expect((await lifeline.call('admin', 'GET', '/instances?entityType=Parcel')).body.items).toEqual([]);
    const timeline = await lifeline.call('admin', 'GET', '/entities/Parcel/P-9/timeline');
    expect(timeline.body.items.map((e: { kind: string; summary: string }) => [e.kind, e.summary])).toEqual([
      ['EntityEventRecorded', 'Parcel P-9 created'],
      ['DelayedStartScheduled', 'Start of guarded scheduled for 2026-11-21T10:10:00.000Z'],
      ['DelayedStartSkipped', 'Start of guarded skipped: the definition is deactivated'],
    ]);
  });
});
