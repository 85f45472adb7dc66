import { startLifeline, type RunningLifeline } from '@lifeline/testing';
import { undocumentedFields, type OpenApiDocument } from '../helpers/documented';
import { FakeClock } from '@lifeline/engine';
import { SqliteEventStore } from '@lifeline/event-store';
import { join } from 'node:path';
import { AsOfTooLarge, readModelsAsOf } from '@lifeline/audit';
import { invoice, record } from './fixtures';

const HOUR = 60 * 60 * 1000;

describe('audit over HTTP: the timeline says why, and the past can be queried as it was', () => {
  let lifeline: RunningLifeline;
  let clock: FakeClock;
  beforeEach(async () => {
    clock = new FakeClock('2026-11-21T10:00:00.000Z');
    lifeline = await startLifeline({ clock });
  });
  afterEach(async () => {
    await lifeline.stop();
  });

  it('each timeline entry names its cause; decisions and waits keep what they saw and the entity event that resumed them', async () => {
    await record(lifeline, invoice('INV-7', 'evt-1', 'created', {}));
    const task = (await lifeline.call('bob', 'GET', '/tasks')).body.items[0];
    await lifeline.call('bob', 'POST', `/tasks/${task.id}/claim`);
    clock.advance(HOUR);
    await lifeline.call('bob', 'POST', `/tasks/${task.id}/postpone`, { until: '2026-11-21T12:00:00.000Z' });
    await lifeline.call('bob', 'POST', `/tasks/${task.id}/complete`, {
      result: 'Approve',
      fields: { comment: 'fine' },
    });
    await lifeline.settle();
    await record(lifeline, invoice('INV-7', 'evt-2', 'updated', { status: 'ClearedForPayment' }, ['status']));

    const timeline = await lifeline.call('alice', 'GET', '/entities/Invoice/INV-7/timeline');
    expect(timeline.status).toBe(200);
    // Entries are checked field by field below; their data differs by kind.
    const items: Record<string, any>[] = timeline.body.items; // eslint-disable-line @typescript-eslint/no-explicit-any
    const byKind = (kind: string) => items.filter((e) => e.kind === kind);
    const [created, cleared] = byKind('EntityEventRecorded');

    const started = byKind('InstanceStarted')[0];
    expect(started.cause).toEqual({ id: created.causationId, type: 'EntityEventRecorded', position: created.position });
    expect(byKind('TaskCreated')[0].cause).toMatchObject({ type: 'EntityEventRecorded', position: created.position });

    expect(byKind('TaskClaimed')[0]).toMatchObject({
      actor: 'bob',
      data: { user: 'bob' },
      at: '2026-11-21T10:00:00.000Z',
    });
    expect(byKind('TaskPostponed')[0]).toMatchObject({
      actor: 'bob',
      data: { until: '2026-11-21T12:00:00.000Z' },
      at: '2026-11-21T11:00:00.000Z',
    });
    expect(byKind('TaskCompleted')[0]).toMatchObject({
      actor: 'bob',
      data: { result: 'Approve', fields: { comment: 'fine' } },
    });
    // A user's command is caused by the request, not by an event: the id is kept, nothing to resolve.
    expect(byKind('TaskCompleted')[0].cause).toBeNull();
    expect(typeof byKind('TaskCompleted')[0].causationId).toBe('string');

    const decision = byKind('DecisionTaken')[0];
    expect(decision.data).toMatchObject({
      activityId: 'route',
      next: 'awaitClearance',
      expression: 'review.result = "Approve"',
    });
    expect(decision.data.seen).toEqual({ 'review.result': 'Approve' });

    const satisfied = byKind('WaitSatisfied')[0];
    expect(satisfied.data).toMatchObject({
      activityId: 'awaitClearance',
      seen: { 'entity.status': 'ClearedForPayment' },
    });
    expect(satisfied.cause).toEqual({
      id: cleared.causationId,
      type: 'EntityEventRecorded',
      position: cleared.position,
    });
    expect(satisfied.data.entityEventId).toBeDefined();
  });

  it('GET /instances/:id?asOf= and GET /tasks?asOf= answer from the history up to a position or an instant', async () => {
    const afterCreated = await record(lifeline, invoice('INV-7', 'evt-1', 'created', {}));
    const createdAt = lifeline.clock.nowIso();
    const task = (await lifeline.call('alice', 'GET', '/tasks')).body.items[0];
    clock.advance(HOUR);
    await lifeline.call('alice', 'POST', `/tasks/${task.id}/claim`);
    clock.advance(HOUR);
    await lifeline.call('alice', 'POST', `/tasks/${task.id}/complete`, { result: 'Reject' });
    await lifeline.settle();

    const now = await lifeline.call('admin', 'GET', `/instances/${task.instanceId}`);
    expect(now.body).toMatchObject({ status: 'completed', currentActivity: 'rejected' });

    const byPosition = await lifeline.call('admin', 'GET', `/instances/${task.instanceId}?asOf=${afterCreated}`);
    expect(byPosition.status).toBe(200);
    expect(byPosition.body).toMatchObject({
      status: 'running',
      currentActivity: 'review',
      asOf: { position: afterCreated, at: createdAt },
    });
    // The answer names nothing the OpenAPI document leaves out (its `asOf` was once undocumented).
    const document = (await lifeline.call(null, 'GET', '/docs/openapi.json')).body as OpenApiDocument;
    expect(undocumentedFields(document, '/instances/{id}', 'get', byPosition.body)).toEqual([]);
    expect(undocumentedFields(document, '/instances/{id}', 'get', now.body)).toEqual([]);

    // Half an hour after the claim: claimed by alice, not yet completed.
    const halfPast = new Date(Date.parse(createdAt) + 1.5 * HOUR).toISOString();
    const byTime = await lifeline.call('admin', 'GET', `/instances/${task.instanceId}?asOf=${halfPast}`);
    expect(byTime.body).toMatchObject({ status: 'running', currentActivity: 'review' });

    // The task list as of then is an audit view of every task: for auditors and admins, not for bob.
    const auditor = lifeline.token('eve', ['auditor']);
    expect((await lifeline.call('bob', 'GET', '/tasks')).body.items).toEqual([]);
    const bobThen = await lifeline.call('bob', 'GET', `/tasks?asOf=${afterCreated}`);
    expect(bobThen.status).toBe(403);
    expect(bobThen.body.error.code).toBe('AUTH.FORBIDDEN');
    const then = await lifeline.call(auditor, 'GET', `/tasks?asOf=${afterCreated}`);
    expect(then.status).toBe(200);
    expect(
      then.body.items.map((t: { id: string; status: string; assignee: string | null }) => [t.id, t.status, t.assignee]),
    ).toEqual([[task.id, 'new', null]]);
    expect(then.body.position).toBe(afterCreated);
    // At half past, alice had claimed it: ongoing, hers.
    const halfPastThen = await lifeline.call(auditor, 'GET', `/tasks?asOf=${encodeURIComponent(halfPast)}`);
    expect(
      halfPastThen.body.items.map((t: { status: string; assignee: string | null }) => [t.status, t.assignee]),
    ).toEqual([['ongoing', 'alice']]);

    const before = await lifeline.call('admin', 'GET', `/instances/${task.instanceId}?asOf=2026-11-21T09:00:00Z`);
    expect(before.status).toBe(404);
    const invalid = await lifeline.call('admin', 'GET', `/instances/${task.instanceId}?asOf=yesterday`);
    expect(invalid.status).toBe(400);
    expect(invalid.body.error.code).toBe('AUDIT.INVALID_AS_OF');
    expect((await lifeline.call('bob', 'GET', '/tasks?asOf=soon')).body.error.code).toBe('AUDIT.INVALID_AS_OF');
  });

  it('an as-of view is refused with AUDIT.AS_OF_TOO_LARGE above its bound', async () => {
    await record(lifeline, invoice('INV-7', 'evt-1', 'created', {}));
    const store = SqliteEventStore.open(join(lifeline.dataDir, 'events.db'));
    try {
      const head = await store.headPosition();
      await expect(
        readModelsAsOf(store, { kind: 'position', position: head }, { maxEvents: head - 1 }),
      ).rejects.toBeInstanceOf(AsOfTooLarge);
      const view = await readModelsAsOf(store, { kind: 'position', position: head }, { maxEvents: head });
      expect(view.events).toBe(head);
      view.close();
    } finally {
      await store.close();
    }
  });
});
