import { startLifeline, type RunningLifeline } from '@lifeline/testing';

const DAY = 24 * 60 * 60 * 1000;
const invoice = (id: string, kind: 'created' | 'updated', data: Record<string, unknown>, changed?: string[]) => ({
  id,
  entityType: 'Invoice',
  entityId: 'INV-7',
  kind,
  occurredAt: '2026-11-21T10:00:00Z',
  data: { number: 'INV-7', amount: 1200, status: 'New', ownerId: 'alice', ...data },
  ...(changed ? { changed } : {}),
});

describe('core flow over HTTP on the embedded default', () => {
  let lifeline: RunningLifeline;
  beforeEach(async () => {
    lifeline = await startLifeline();
  });
  afterEach(async () => {
    await lifeline.stop();
  });

  it('an invoice goes from entity event to task, decision, wait, and a task for its owner, then ends', async () => {
    const posted = await lifeline.call('app', 'POST', '/entity-events', invoice('evt-1', 'created', {}));
    expect(posted.status).toBe(202);
    expect(posted.body).toMatchObject({ recorded: 1, duplicates: 0 });
    await lifeline.settle();

    const bobList = await lifeline.call('bob', 'GET', '/tasks');
    expect(bobList.body.items).toHaveLength(1);
    const task = bobList.body.items[0];
    expect(task).toMatchObject({
      title: 'Review the invoice',
      status: 'new',
      role: 'accounting',
      assignee: null,
      entity: { type: 'Invoice', id: 'INV-7' },
      definitionKey: 'invoice-approval',
    });
    expect(task.dueAt).toBe('2026-11-23T10:00:00.000Z');
    expect((await lifeline.call('carol', 'GET', '/tasks')).body.items).toHaveLength(0);

    const details = await lifeline.call('bob', 'GET', `/tasks/${task.id}`);
    expect(details.body).toMatchObject({
      instructions: 'Check the supplier and the amount.',
      results: ['Approve', 'Reject'],
      record: { amount: 1200 },
    });

    const claim = await lifeline.call('bob', 'POST', `/tasks/${task.id}/claim`);
    expect(claim.status).toBe(200);
    const afterClaim = await lifeline.call('alice', 'GET', `/tasks?minPosition=${claim.body.position}`);
    expect(afterClaim.body.items).toHaveLength(0); // alice is accounting too, but bob holds it now

    const wrong = await lifeline.call('bob', 'POST', `/tasks/${task.id}/complete`, { result: 'Maybe' });
    expect(wrong.status).toBe(400);
    expect(wrong.body.error.code).toBe('TASK.INVALID_RESULT');

    const done = await lifeline.call('bob', 'POST', `/tasks/${task.id}/complete`, {
      result: 'Approve',
      fields: { comment: 'ok' },
    });
    expect(done.status).toBe(200);
    const instance = await lifeline.call(
      'admin',
      'GET',
      `/instances/${task.instanceId}?minPosition=${done.body.position}`,
    );
    expect(instance.body).toMatchObject({ status: 'running', currentActivity: 'awaitClearance' });

    // An unrelated update leaves the wait; the clearance resumes it.
    await lifeline.call(
      'app',
      'POST',
      '/entity-events',
      invoice('evt-2', 'updated', { status: 'Disputed' }, ['status']),
    );
    await lifeline.settle();
    expect((await lifeline.call('admin', 'GET', `/instances/${task.instanceId}`)).body.currentActivity).toBe(
      'awaitClearance',
    );
    await lifeline.call(
      'app',
      'POST',
      '/entity-events',
      invoice('evt-3', 'updated', { status: 'ClearedForPayment' }, ['status']),
    );
    await lifeline.settle();

    const aliceList = await lifeline.call('alice', 'GET', '/tasks');
    expect(aliceList.body.items.map((t: { title: string }) => t.title)).toEqual(['Pay the invoice']);
    const pay = aliceList.body.items[0];
    expect(pay.assignee).toBe('alice');
    const paid = await lifeline.call('alice', 'POST', `/tasks/${pay.id}/complete`, { answers: ['Transfer'] });
    expect(paid.status).toBe(200);
    const ended = await lifeline.call(
      'admin',
      'GET',
      `/instances/${task.instanceId}?minPosition=${paid.body.position}`,
    );
    expect(ended.body.status).toBe('completed');

    const history = await lifeline.call('admin', 'GET', `/instances/${task.instanceId}/history`);
    const types = history.body.items.map((e: { type: string }) => e.type);
    expect(types).toEqual([
      'InstanceStarted',
      'ActivityEntered',
      'TaskCreated',
      'TaskClaimed',
      'TaskCompleted',
      'ActivityEntered',
      'DecisionTaken',
      'ActivityEntered',
      'WaitStarted',
      'WaitSatisfied',
      'ActivityEntered',
      'TaskCreated',
      'TaskCompleted',
      'ActivityEntered',
      'InstanceCompleted',
    ]);
    const satisfied = history.body.items.find((e: { type: string }) => e.type === 'WaitSatisfied');
    expect(satisfied.data).toMatchObject({
      entityEventId: 'evt-3',
      seen: { 'entity.status': 'ClearedForPayment' },
      entitySource: { kind: 'http' },
    });
    const positions = history.body.items.map((e: { position: number }) => e.position);
    expect([...positions].sort((a, b) => a - b)).toEqual(positions);
  });

  it('the same envelope id twice is recorded once and starts one process', async () => {
    const first = await lifeline.call('app', 'POST', '/entity-events', [
      invoice('evt-1', 'created', {}),
      invoice('evt-1', 'created', {}),
    ]);
    expect(first.body).toMatchObject({ recorded: 1, duplicates: 1 });
    const again = await lifeline.call('app', 'POST', '/entity-events', invoice('evt-1', 'created', {}));
    expect(again.body).toMatchObject({ recorded: 0, duplicates: 1 });
    await lifeline.settle();
    expect((await lifeline.call('admin', 'GET', '/instances?definition=invoice-approval')).body.items).toHaveLength(1);
  });

  it('a wait times out on the fake clock: variables set, a message emitted, the instance ends', async () => {
    await lifeline.call('app', 'POST', '/entity-events', invoice('evt-1', 'created', {}));
    await lifeline.settle();
    const [task] = (await lifeline.call('bob', 'GET', '/tasks')).body.items;
    await lifeline.call('bob', 'POST', `/tasks/${task.id}/complete`, { result: 'Approve' });
    await lifeline.settle();
    await lifeline.advance(29 * DAY);
    expect((await lifeline.call('admin', 'GET', `/instances/${task.instanceId}`)).body.status).toBe('running');
    await lifeline.advance(1 * DAY + 1000);
    const instance = (await lifeline.call('admin', 'GET', `/instances/${task.instanceId}`)).body;
    expect(instance).toMatchObject({ status: 'completed', variables: { escalated: true } }); // `set: { escalated: "true" }` is the FEEL expression true
    const history = (await lifeline.call('admin', 'GET', `/instances/${task.instanceId}/history`)).body.items;
    const emitted = history.find((e: { type: string }) => e.type === 'MessageEmitted');
    expect(emitted.data).toEqual({
      activityId: 'escalate',
      topic: 'invoice-commands',
      messageType: 'EscalateInvoice',
      key: task.instanceId,
      payload: { invoice: 'INV-7' },
    });
  });

  it('execution order: one event fires two definitions, the smaller order starts first; delay schedules the start', async () => {
    const def = (key: string, order: number, delay?: string) => ({
      key,
      name: key,
      relatedEntity: 'Order',
      executionOrder: order,
      triggers: [{ on: 'created', ...(delay ? { delay } : {}) }],
      start: 't',
      activities: { t: { type: 'human', title: key, assignee: { role: 'sales' }, next: 'e' }, e: { type: 'end' } },
    });
    expect((await lifeline.call('admin', 'POST', '/definitions', def('order-b', 5))).status).toBe(201);
    expect((await lifeline.call('admin', 'POST', '/definitions', def('order-a', 9))).status).toBe(201);
    expect((await lifeline.call('admin', 'POST', '/definitions', def('order-later', 1, 'PT10M'))).status).toBe(201);
    await lifeline.call('app', 'POST', '/entity-events', {
      id: 'o-1',
      entityType: 'Order',
      entityId: 'O-1',
      kind: 'created',
      occurredAt: '2026-11-21T10:00:00Z',
      data: {},
    });
    await lifeline.settle();
    const started = (await lifeline.call('admin', 'GET', '/instances?entityType=Order')).body.items;
    expect(started.map((i: { definitionKey: string }) => i.definitionKey).sort()).toEqual(['order-a', 'order-b']);
    const timeline = (await lifeline.call('admin', 'GET', '/entities/Order/O-1/timeline')).body.items;
    const starts = timeline
      .filter((e: { kind: string }) => e.kind === 'InstanceStarted')
      .map((e: { data: { definitionKey: string } }) => e.data.definitionKey);
    expect(starts).toEqual(['order-b', 'order-a']);
    await lifeline.advance(9 * 60_000);
    expect((await lifeline.call('admin', 'GET', '/instances?definition=order-later')).body.items).toHaveLength(0);
    await lifeline.advance(60_000 + 1);
    const later = (await lifeline.call('admin', 'GET', '/instances?definition=order-later')).body.items;
    expect(later).toHaveLength(1);
    expect(later[0].cause).toMatchObject({ kind: 'trigger', entityEventId: 'o-1', delayed: true });
  });

  it('a deactivated definition no longer starts; activating it again does', async () => {
    const off = await lifeline.call('admin', 'POST', '/definitions/invoice-approval/deactivate');
    expect(off.body).toMatchObject({ enabled: false });
    await lifeline.call('app', 'POST', '/entity-events', invoice('evt-1', 'created', {}));
    await lifeline.settle();
    expect((await lifeline.call('admin', 'GET', '/instances')).body.items).toHaveLength(0);
    await lifeline.call('admin', 'POST', '/definitions/invoice-approval/activate');
    await lifeline.call('app', 'POST', '/entity-events', { ...invoice('evt-2', 'created', {}), entityId: 'INV-8' });
    await lifeline.settle();
    expect((await lifeline.call('admin', 'GET', '/instances')).body.items).toHaveLength(1);
  });

  it('postpone hides a task until its new start; suspend and terminate are for admins', async () => {
    await lifeline.call('app', 'POST', '/entity-events', invoice('evt-1', 'created', {}));
    await lifeline.settle();
    const [task] = (await lifeline.call('bob', 'GET', '/tasks')).body.items;
    await lifeline.call('bob', 'POST', `/tasks/${task.id}/claim`);
    const later = await lifeline.call('bob', 'POST', `/tasks/${task.id}/postpone`, {
      until: '2026-11-22T10:00:00.000Z',
      dueAt: '2026-11-25T10:00:00.000Z',
    });
    expect(later.status).toBe(200);
    expect((await lifeline.call('bob', 'GET', `/tasks?minPosition=${later.body.position}`)).body.items).toHaveLength(0);
    const postponed = (await lifeline.call('bob', 'GET', '/tasks?status=postponed')).body.items;
    expect(postponed).toHaveLength(1);
    expect(postponed[0]).toMatchObject({
      status: 'postponed',
      startAt: '2026-11-22T10:00:00.000Z',
      dueAt: '2026-11-25T10:00:00.000Z',
    });
    await lifeline.advance(DAY);
    expect((await lifeline.call('bob', 'GET', '/tasks')).body.items.map((t: { id: string }) => t.id)).toEqual([
      task.id,
    ]);

    expect((await lifeline.call('bob', 'POST', `/instances/${task.instanceId}/suspend`, {})).status).toBe(403);
    expect(
      (await lifeline.call('admin', 'POST', `/instances/${task.instanceId}/suspend`, { reason: 'audit' })).status,
    ).toBe(200);
    const refused = await lifeline.call('bob', 'POST', `/tasks/${task.id}/complete`, { result: 'Approve' });
    expect(refused.status).toBe(409);
    expect(refused.body.error.code).toBe('INSTANCE.SUSPENDED');
    expect((await lifeline.call('admin', 'POST', `/instances/${task.instanceId}/terminate`, {})).status).toBe(200);
    await lifeline.settle();
    expect((await lifeline.call('bob', 'GET', '/tasks')).body.items).toHaveLength(0);
    expect((await lifeline.call('admin', 'GET', `/instances/${task.instanceId}`)).body.status).toBe('terminated');
  });

  it('state survives a restart: nothing lost, nothing repeated', async () => {
    await lifeline.call('app', 'POST', '/entity-events', invoice('evt-1', 'created', {}));
    await lifeline.settle();
    const dataDir = lifeline.dataDir;
    const head = await lifeline.engine.store.headPosition();
    await lifeline.close();
    const again = await startLifeline({ dataDir, demo: true, clock: lifeline.clock as never });
    try {
      expect(await again.engine.store.headPosition()).toBe(head); // demo republish of unchanged documents records nothing
      expect((await again.call('bob', 'GET', '/tasks')).body.items).toHaveLength(1);
      await again.call('app', 'POST', '/entity-events', invoice('evt-1', 'created', {}));
      await again.settle();
      expect((await again.call('admin', 'GET', '/instances')).body.items).toHaveLength(1);
    } finally {
      await again.stop();
    }
    lifeline = await startLifeline(); // afterEach stops this one
  });
});
