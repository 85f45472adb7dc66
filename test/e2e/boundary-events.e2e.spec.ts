import { startLifeline, type RunningLifeline } from '@lifeline/testing';

/** Boundary events over HTTP on the embedded default, time driven by the FakeClock: SLA escalation and a cancelled record. */

const DAY = 24 * 60 * 60 * 1000;
const HOUR = 60 * 60 * 1000;

const escalation = `
key: invoice-escalation
name: Invoice review with escalation
relatedEntity: Invoice
triggers: [{ on: created }]
start: review
activities:
  review:
    type: human
    title: Review the invoice
    assignee: { role: accounting }
    dueIn: P3D
    boundary:
      - { after: P1D, every: P1D, remind: true }
      - { after: P3D, next: escalate }
    next: done
  escalate: { type: human, title: Escalated invoice review, assignee: { role: managers }, next: done }
  done: { type: end }
`;

const complaint = `
key: complaint-review
name: Complaint review
relatedEntity: Complaint
triggers: [{ on: created }]
start: review
activities:
  review:
    type: human
    title: Review the complaint
    assignee: { role: support }
    boundary: [{ when: entity.status = "Cancelled", next: withdrawn }]
    next: done
  withdrawn: { type: end }
  done: { type: end }
`;

interface Item {
  id: string;
  title: string;
  instanceId: string;
}

describe('boundary events over HTTP on the embedded default', () => {
  let lifeline: RunningLifeline;
  beforeEach(async () => {
    lifeline = await startLifeline({ demo: false });
    for (const yaml of [escalation, complaint]) {
      const published = await lifeline.call('admin', 'POST', '/definitions', yaml, {
        'content-type': 'application/yaml',
      });
      expect(published.status).toBe(201);
    }
  });
  afterEach(async () => {
    await lifeline.stop();
  });

  const history = async (instanceId: string) =>
    (await lifeline.call('admin', 'GET', `/instances/${instanceId}/history`)).body.items as {
      type: string;
      data: Record<string, unknown>;
    }[];

  it('a review gets a daily reminder, then is escalated to the managers after its deadline', async () => {
    const mia = lifeline.token('mia', ['managers']);
    const posted = await lifeline.call('app', 'POST', '/entity-events', {
      id: 'inv-1-created',
      entityType: 'Invoice',
      entityId: 'INV-1',
      kind: 'created',
      occurredAt: '2026-11-21T10:00:00Z',
      data: { number: 'INV-1', amount: 900 },
    });
    expect(posted.status).toBe(202);
    await lifeline.settle();
    const [task] = (await lifeline.call('bob', 'GET', '/tasks')).body.items as Item[];
    expect(task).toMatchObject({ title: 'Review the invoice' });

    await lifeline.advance(DAY + HOUR);
    await lifeline.advance(DAY);
    const reminders = (await history(task!.instanceId)).filter((e) => e.type === 'BoundaryTriggered');
    expect(reminders.map((e) => [e.data.remind, e.data.dueAt, e.data.nextDueAt])).toEqual([
      [true, '2026-11-22T10:00:00.000Z', '2026-11-23T10:00:00.000Z'],
      [true, '2026-11-23T10:00:00.000Z', '2026-11-24T10:00:00.000Z'],
    ]);
    expect((await lifeline.call('bob', 'GET', '/tasks')).body.items).toHaveLength(1);
    expect((await lifeline.call(mia, 'GET', '/tasks')).body.items).toHaveLength(0);

    await lifeline.advance(DAY);
    expect((await lifeline.call('bob', 'GET', '/tasks')).body.items).toEqual([]);
    const managers = (await lifeline.call(mia, 'GET', '/tasks')).body.items as Item[];
    expect(managers.map((t) => t.title)).toEqual(['Escalated invoice review']);
    const late = await lifeline.call('bob', 'POST', `/tasks/${task!.id}/complete`, {});
    expect(late.status).toBe(409);
    expect(late.body.error.code).toBe('TASK.CANCELLED');

    const events = await history(task!.instanceId);
    const escalated = events.find((e) => e.type === 'BoundaryTriggered' && e.data.interrupting === true);
    expect(escalated?.data).toMatchObject({ activityId: 'review', index: 1, kind: 'timer', next: 'escalate' });
    // The reminder repeats no more once the task is gone.
    await lifeline.advance(2 * DAY);
    expect((await history(task!.instanceId)).filter((e) => e.type === 'BoundaryTriggered')).toHaveLength(4);
    const timeline = (await lifeline.call('admin', 'GET', '/entities/Invoice/INV-1/timeline')).body.items as {
      summary: string;
    }[];
    expect(timeline.map((e) => e.summary)).toEqual(
      expect.arrayContaining([
        'Timer of review: reminder, next at 2026-11-23T10:00:00.000Z',
        'Timer of review interrupted it, going to escalate',
        'Task review cancelled: boundary timer 1',
      ]),
    );

    const done = await lifeline.call(mia, 'POST', `/tasks/${managers[0]!.id}/complete`, {});
    expect(done.status).toBe(200);
    await lifeline.settle();
    expect((await lifeline.call('admin', 'GET', `/instances/${task!.instanceId}`)).body.status).toBe('completed');
  });

  it('a complaint’s review is cancelled when the application cancels the complaint', async () => {
    await lifeline.call('app', 'POST', '/entity-events', {
      id: 'c-1-created',
      entityType: 'Complaint',
      entityId: 'C-1',
      kind: 'created',
      occurredAt: '2026-11-21T10:00:00Z',
      data: { status: 'Open' },
    });
    await lifeline.settle();
    const [task] = (await lifeline.call('carol', 'GET', '/tasks')).body.items as Item[];
    expect(task).toMatchObject({ title: 'Review the complaint' });

    // An update that changes something else leaves the review open.
    await lifeline.call('app', 'POST', '/entity-events', {
      id: 'c-1-noted',
      entityType: 'Complaint',
      entityId: 'C-1',
      kind: 'updated',
      occurredAt: '2026-11-21T11:00:00Z',
      data: { status: 'Open', note: 'called back' },
      changed: ['note'],
    });
    await lifeline.settle();
    expect((await lifeline.call('carol', 'GET', '/tasks')).body.items).toHaveLength(1);

    const cancelled = await lifeline.call('app', 'POST', '/entity-events', {
      id: 'c-1-cancelled',
      entityType: 'Complaint',
      entityId: 'C-1',
      kind: 'updated',
      occurredAt: '2026-11-21T12:00:00Z',
      data: { status: 'Cancelled' },
      changed: ['status'],
    });
    expect(cancelled.status).toBe(202);
    const list = await lifeline.call('carol', 'GET', `/tasks?minPosition=${cancelled.body.position}`);
    expect(list.body.items).toEqual([]);
    const instance = (await lifeline.call('admin', 'GET', `/instances/${task!.instanceId}`)).body;
    expect(instance).toMatchObject({ status: 'completed' });
    const trigger = (await history(task!.instanceId)).find((e) => e.type === 'BoundaryTriggered');
    expect(trigger?.data).toMatchObject({
      kind: 'condition',
      interrupting: true,
      next: 'withdrawn',
      entityEventId: 'c-1-cancelled',
      seen: { 'entity.status': 'Cancelled' },
    });
    const completing = await lifeline.call('carol', 'POST', `/tasks/${task!.id}/complete`, {});
    expect(completing.status).toBe(409);
  });
});

describe('a task its record completes, over HTTP', () => {
  let lifeline: RunningLifeline;
  beforeEach(async () => {
    lifeline = await startLifeline({ demo: false });
    const published = await lifeline.call(
      'admin',
      'POST',
      '/definitions',
      `
key: supplier-details
name: Supplier details
relatedEntity: Supplier
triggers: [{ on: created }]
start: fill
activities:
  fill:
    type: human
    title: Fill in the bank details
    assignee: { role: accounting }
    completeWhen: entity.iban != null and entity.address != null
    next: done
  done: { type: end }
`,
      { 'content-type': 'application/yaml' },
    );
    expect(published.status).toBe(201);
  });
  afterEach(async () => {
    await lifeline.stop();
  });

  it('the task closes when the application saves the record with the required fields', async () => {
    const post = (id: string, kind: 'created' | 'updated', data: Record<string, unknown>) =>
      lifeline.call('app', 'POST', '/entity-events', {
        id,
        entityType: 'Supplier',
        entityId: 'S-1',
        kind,
        occurredAt: '2026-11-21T10:00:00Z',
        data,
        ...(kind === 'updated' ? { changed: Object.keys(data) } : {}),
      });
    await post('s-1-created', 'created', { name: 'ACME' });
    await lifeline.settle();
    const [task] = (await lifeline.call('bob', 'GET', '/tasks')).body.items as Item[];
    expect(task).toMatchObject({ title: 'Fill in the bank details' });

    const partial = await post('s-1-iban', 'updated', { name: 'ACME', iban: 'NL91ABNA0417164300' });
    expect((await lifeline.call('bob', 'GET', `/tasks?minPosition=${partial.body.position}`)).body.items).toHaveLength(
      1,
    );

    const complete = await post('s-1-address', 'updated', {
      name: 'ACME',
      iban: 'NL91ABNA0417164300',
      address: 'Main St 1',
    });
    expect((await lifeline.call('bob', 'GET', `/tasks?minPosition=${complete.body.position}`)).body.items).toEqual([]);
    const instance = (await lifeline.call('admin', 'GET', `/instances/${task!.instanceId}`)).body;
    expect(instance.status).toBe('completed');
    const history = (await lifeline.call('admin', 'GET', `/instances/${task!.instanceId}/history`)).body.items as {
      type: string;
      data: Record<string, unknown>;
    }[];
    expect(history.find((e) => e.type === 'TaskCompleted')?.data).toMatchObject({
      user: 'system',
      byRecord: { entityEventId: 's-1-address' },
    });
  });
});

describe('a deleted record, over HTTP', () => {
  let lifeline: RunningLifeline;
  beforeEach(async () => {
    lifeline = await startLifeline({ demo: false });
  });
  afterEach(async () => {
    await lifeline.stop();
  });

  it('a definition that terminates on deletion ends its instance and its task; one without a policy goes on', async () => {
    const publish = (key: string, policy: string) =>
      lifeline.call(
        'admin',
        'POST',
        '/definitions',
        `
key: ${key}
name: ${key}
relatedEntity: Complaint
triggers: [{ on: created }]
${policy}
start: review
activities:
  review: { type: human, title: Review ${key}, assignee: { role: support }, next: done }
  done: { type: end }
`,
        { 'content-type': 'application/yaml' },
      );
    expect((await publish('ends-with-record', 'onRecordDeleted: terminate')).status).toBe(201);
    expect((await publish('outlives-record', '')).status).toBe(201);
    const post = (id: string, kind: 'created' | 'deleted') =>
      lifeline.call('app', 'POST', '/entity-events', {
        id,
        entityType: 'Complaint',
        entityId: 'C-9',
        kind,
        occurredAt: '2026-11-21T10:00:00Z',
        data: { status: 'Open' },
      });
    await post('c-9-created', 'created');
    await lifeline.settle();
    expect(((await lifeline.call('carol', 'GET', '/tasks')).body.items as Item[]).map((t) => t.title).sort()).toEqual([
      'Review ends-with-record',
      'Review outlives-record',
    ]);
    const deleted = await post('c-9-deleted', 'deleted');
    expect(deleted.status).toBe(202);
    const left = (await lifeline.call('carol', 'GET', `/tasks?minPosition=${deleted.body.position}`)).body
      .items as Item[];
    expect(left.map((t) => t.title)).toEqual(['Review outlives-record']);
    const instances = (await lifeline.call('admin', 'GET', '/instances?definition=ends-with-record')).body.items as {
      id: string;
      status: string;
    }[];
    expect(instances.map((i) => i.status)).toEqual(['terminated']);
    const history = (await lifeline.call('admin', 'GET', `/instances/${instances[0]!.id}/history`)).body.items as {
      type: string;
      data: Record<string, unknown>;
    }[];
    expect(history.slice(-2).map((e) => [e.type, e.data])).toEqual([
      ['RecordDeleted', { entityEventId: 'c-9-deleted', policy: 'terminate' }],
      ['InstanceTerminated', { by: 'system', reason: 'the record was deleted' }],
    ]);
  });
});
