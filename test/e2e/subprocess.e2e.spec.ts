import { startLifeline, type RunningLifeline } from '@lifeline/testing';

/** Supplier onboarding run as a sub-process of a purchase order, over HTTP on the embedded default. */

const onboarding = `
key: supplier-onboarding
name: Supplier onboarding
relatedEntity: Supplier
triggers: []
start: collect
activities:
  collect:
    type: human
    title: Collect the supplier's bank details
    assignee: { role: accounting }
    form: [{ name: iban, type: text, required: true }]
    next: keep
  keep: { type: automatic, set: { iban: collect.fields.iban }, next: done }
  done: { type: end }
`;
const purchaseOrder = `
key: purchase-order
name: Purchase order
relatedEntity: PurchaseOrder
triggers: [{ on: created }]
start: onboard
activities:
  onboard:
    type: subprocess
    process: supplier-onboarding
    record: { type: Supplier, id: entity.supplierId }
    inputs: { order: entity.number }
    outputs: { supplierIban: child.iban }
    next: approve
  approve: { type: human, title: Approve the order, assignee: { role: accounting }, next: done }
  done: { type: end }
`;

interface Task {
  id: string;
  title: string;
  instanceId: string;
}

describe('a sub-process over HTTP', () => {
  let lifeline: RunningLifeline;
  beforeEach(async () => {
    lifeline = await startLifeline({ demo: false });
    for (const yaml of [onboarding, purchaseOrder]) {
      const published = await lifeline.call('admin', 'POST', '/definitions', yaml, {
        'content-type': 'application/yaml',
      });
      expect(published.status).toBe(201);
    }
  });
  afterEach(async () => {
    await lifeline.stop();
  });

  it('supplier onboarding runs as a sub-process of the order, linked both ways, and the order goes on with its output', async () => {
    const posted = await lifeline.call('app', 'POST', '/entity-events', {
      id: 'po-1-created',
      entityType: 'PurchaseOrder',
      entityId: 'PO-1',
      kind: 'created',
      occurredAt: '2026-11-21T10:00:00Z',
      data: { number: 'PO-1', supplierId: 'S-1' },
    });
    expect(posted.status).toBe(202);
    await lifeline.settle();
    const [collect] = (await lifeline.call('bob', 'GET', '/tasks')).body.items as Task[];
    expect(collect).toMatchObject({
      title: "Collect the supplier's bank details",
      entity: { type: 'Supplier', id: 'S-1' },
    });

    const child = (await lifeline.call('admin', 'GET', `/instances/${collect!.instanceId}`)).body;
    expect(child).toMatchObject({ definitionKey: 'supplier-onboarding', variables: { order: 'PO-1' } });
    const parentId = child.cause.instanceId as string;
    expect(child.cause).toMatchObject({ kind: 'parent', activityId: 'onboard' });
    const parentHistory = (await lifeline.call('admin', 'GET', `/instances/${parentId}/history`)).body.items as {
      type: string;
      data: Record<string, unknown>;
    }[];
    expect(parentHistory.find((e) => e.type === 'SubprocessStarted')?.data).toMatchObject({
      childInstanceId: collect!.instanceId,
      entity: { type: 'Supplier', id: 'S-1' },
    });

    const done = await lifeline.call('bob', 'POST', `/tasks/${collect!.id}/complete`, {
      fields: { iban: 'NL91ABNA0417164300' },
    });
    expect(done.status).toBe(200);
    await lifeline.settle();
    const parent = (await lifeline.call('admin', 'GET', `/instances/${parentId}`)).body;
    expect(parent).toMatchObject({ status: 'running', variables: { supplierIban: 'NL91ABNA0417164300' } });
    const next = (await lifeline.call('bob', 'GET', '/tasks')).body.items as Task[];
    expect(next.map((t) => t.title)).toEqual(['Approve the order']);

    // Both records' timelines tell it: the supplier's shows the child, the order's shows the sub-process.
    const orderTimeline = (await lifeline.call('admin', 'GET', '/entities/PurchaseOrder/PO-1/timeline')).body.items as {
      summary: string;
    }[];
    expect(orderTimeline.map((e) => e.summary)).toEqual(
      expect.arrayContaining([
        `Sub-process supplier-onboarding started at onboard for Supplier S-1: instance ${collect!.instanceId}`,
        `Sub-process ${collect!.instanceId} completed: supplierIban set`,
      ]),
    );
    const supplierTimeline = (await lifeline.call('admin', 'GET', '/entities/Supplier/S-1/timeline')).body.items as {
      summary: string;
    }[];
    expect(supplierTimeline.map((e) => e.summary)).toContain('Process "Supplier onboarding" started (version 1)');
  });

  it('terminating the order terminates the running onboarding', async () => {
    await lifeline.call('app', 'POST', '/entity-events', {
      id: 'po-2-created',
      entityType: 'PurchaseOrder',
      entityId: 'PO-2',
      kind: 'created',
      occurredAt: '2026-11-21T10:00:00Z',
      data: { number: 'PO-2', supplierId: 'S-2' },
    });
    await lifeline.settle();
    const [collect] = (await lifeline.call('bob', 'GET', '/tasks')).body.items as Task[];
    const child = (await lifeline.call('admin', 'GET', `/instances/${collect!.instanceId}`)).body;
    const terminated = await lifeline.call('admin', 'POST', `/instances/${child.cause.instanceId}/terminate`, {
      reason: 'order withdrawn',
    });
    expect(terminated.status).toBe(200);
    await lifeline.settle();
    expect((await lifeline.call('admin', 'GET', `/instances/${collect!.instanceId}`)).body.status).toBe('terminated');
    expect((await lifeline.call('bob', 'GET', '/tasks')).body.items).toEqual([]);
  });
});
