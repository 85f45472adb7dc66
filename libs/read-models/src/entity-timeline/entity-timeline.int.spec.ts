import { allProjections } from '../projections';
import { Projector, ReadModelDb } from '../read-model-db';
import { ReadModelFixture } from '../testing/read-model-fixture';
import { Driven, notifyAndReview, purchaseOrder } from '../testing/parallel-instances';
import { entityTimeline, latestRecordData } from './entity-timeline.queries';

describe('entity timeline', () => {
  let rm: ReadModelFixture;
  beforeEach(() => {
    rm = new ReadModelFixture();
  });
  afterEach(() => rm.dispose());

  const recorded = (entityId: string, kind: 'created' | 'updated', changed?: string[]) =>
    rm.log.append(
      `entity-Invoice-${entityId}`,
      {
        type: 'EntityEventRecorded',
        data: {
          envelope: {
            id: `e-${rm.log.events.length}`,
            entityType: 'Invoice',
            entityId,
            kind,
            occurredAt: rm.log.now(),
            data: { number: entityId },
            ...(changed ? { changed } : {}),
          },
          source: { kind: 'http' },
        },
      },
      'ingest',
    );

  it('tells the record’s events and those of its instances, in log order, and nothing about other records', () => {
    recorded('INV-7', 'created');
    recorded('INV-8', 'created');
    rm.log.append('entity-Invoice-INV-7', {
      type: 'DelayedStartScheduled',
      data: {
        instanceId: 'i-1',
        definitionKey: 'invoice-approval',
        definitionVersion: 1,
        triggerIndex: 0,
        entityEventId: 'e-0',
        startAt: '2026-11-21T10:10:00.000Z',
      },
    });
    rm.log.instance('i-1', {
      type: 'InstanceStarted',
      data: {
        instanceId: 'i-1',
        definitionKey: 'invoice-approval',
        definitionVersion: 1,
        definitionName: 'Invoice approval',
        entity: { type: 'Invoice', id: 'INV-7' },
        variables: {},
        cause: { kind: 'api' },
      },
    });
    rm.log.instance('i-2', {
      type: 'InstanceStarted',
      data: {
        instanceId: 'i-2',
        definitionKey: 'invoice-approval',
        definitionVersion: 1,
        definitionName: 'Invoice approval',
        entity: { type: 'Invoice', id: 'INV-8' },
        variables: {},
        cause: { kind: 'api' },
      },
    });
    rm.log.instance('i-1', {
      type: 'TaskCreated',
      data: {
        taskId: 't-1',
        activityId: 'review',
        title: 'Review the invoice',
        assignee: { role: 'accounting' },
        startAt: rm.log.now(),
        rule: { role: 'accounting' },
      },
    });
    rm.log.instance(
      'i-1',
      {
        type: 'TaskCompleted',
        data: { taskId: 't-1', activityId: 'review', user: 'alice', result: 'Approve', fields: {} },
      },
      'alice',
    );
    rm.log.instance('i-1', {
      type: 'DecisionTaken',
      data: { activityId: 'route', branch: 0, expression: 'review.result = "Approve"', next: 'pay', seen: {} },
    });
    recorded('INV-7', 'updated', ['status']);
    rm.project();

    const timeline = entityTimeline(rm.sql, 'Invoice', 'INV-7');
    expect(timeline.map((e) => [e.kind, e.instanceId, e.taskId, e.summary])).toEqual([
      ['EntityEventRecorded', null, null, 'Invoice INV-7 created'],
      ['DelayedStartScheduled', 'i-1', null, 'Start of invoice-approval scheduled for 2026-11-21T10:10:00.000Z'],
      ['InstanceStarted', 'i-1', null, 'Process "Invoice approval" started (version 1)'],
      ['TaskCreated', 'i-1', 't-1', 'Task "Review the invoice" created for role accounting'],
      ['TaskCompleted', 'i-1', 't-1', 'Task review completed by alice: Approve'],
      ['DecisionTaken', 'i-1', null, 'Decision route: pay'],
      ['EntityEventRecorded', null, null, 'Invoice INV-7 updated (status)'],
    ]);
    expect(timeline.map((e) => e.position)).toEqual([1, 3, 4, 6, 7, 8, 9]);
    expect(timeline[4]).toMatchObject({ actor: 'alice', causationId: 'cause-7', data: { result: 'Approve' } });
    expect(entityTimeline(rm.sql, 'Invoice', 'INV-8').map((e) => e.kind)).toEqual([
      'EntityEventRecorded',
      'InstanceStarted',
    ]);
    expect(entityTimeline(rm.sql, 'Invoice', 'INV-7', { afterPosition: 7 }).map((e) => e.position)).toEqual([8, 9]);
  });

  it("tells a parallel instance: the fork, each branch's task, the join, the branch that ended first", () => {
    rm.log.append(
      'entity-PurchaseOrder-PO-1',
      {
        type: 'EntityEventRecorded',
        data: {
          envelope: {
            id: 'e-po',
            entityType: 'PurchaseOrder',
            entityId: 'PO-1',
            kind: 'created',
            occurredAt: rm.log.now(),
            data: { number: 'PO-1' },
          },
          source: { kind: 'http' },
        },
      },
      'ingest',
    );
    new Driven(rm, 'po-1', purchaseOrder).start().complete('finance').complete('legal');
    new Driven(rm, 'po-2', notifyAndReview).start().complete('review');
    rm.project();

    const timeline = entityTimeline(rm.sql, 'PurchaseOrder', 'PO-1');
    const shown = ['InstanceStarted', 'BranchesForked', 'TaskCreated', 'TaskCompleted', 'BranchesJoined'];
    const flow = timeline.filter((e) => [...shown, 'BranchesEnded', 'InstanceCompleted'].includes(e.kind));
    expect(flow.map((e) => [e.kind, e.instanceId, e.taskId, e.summary])).toEqual([
      ['InstanceStarted', 'po-1', null, 'Process "Purchase order" started (version 1)'],
      ['BranchesForked', 'po-1', null, 'Forked at reviews into finance, legal'],
      ['TaskCreated', 'po-1', 'po-1.finance.1', 'Task "Finance review" created for role finance'],
      ['TaskCreated', 'po-1', 'po-1.legal.1', 'Task "Legal review" created for role legal'],
      ['TaskCompleted', 'po-1', 'po-1.finance.1', 'Task finance completed by system'],
      ['TaskCompleted', 'po-1', 'po-1.legal.1', 'Task legal completed by system'],
      ['BranchesJoined', 'po-1', null, 'Branches of reviews joined at reviewed'],
      ['InstanceCompleted', 'po-1', null, 'Process completed at done'],
      ['InstanceStarted', 'po-2', null, 'Process "Notify and review" started (version 1)'],
      ['BranchesForked', 'po-2', null, 'Forked at both into notify, review'],
      ['TaskCreated', 'po-2', 'po-2.review.1', 'Task "Review" created for role finance'],
      ['TaskCompleted', 'po-2', 'po-2.review.1', 'Task review completed by system'],
      ['BranchesEnded', 'po-2', null, 'Every branch of both ended (last at done)'],
      ['InstanceCompleted', 'po-2', null, 'Process completed at done'],
    ]);
    // The branch that ended at its own end first: entered there, before the other branch's task.
    const po2 = timeline.filter((e) => e.instanceId === 'po-2' && e.kind === 'ActivityEntered');
    expect(po2.map((e) => e.summary)).toEqual([
      'Entered both',
      'Entered notify',
      'Entered notified',
      'Entered review',
      'Entered done',
    ]);
    expect(flow[1]!.data).toMatchObject({
      forkId: 'reviews.1',
      branches: [
        { token: 'reviews.1.0', next: 'finance' },
        { token: 'reviews.1.1', next: 'legal' },
      ],
    });
    expect(timeline.map((e) => e.position)).toEqual([...timeline.map((e) => e.position)].sort((a, b) => a - b));
  });

  it('reads the latest record data, and nothing for a record without a timeline', () => {
    recorded('INV-7', 'created');
    recorded('INV-8', 'created');
    recorded('INV-7', 'updated', ['status']);
    rm.project();
    expect(latestRecordData(rm.sql, 'Invoice', 'INV-7')).toEqual({ data: { number: 'INV-7' }, entityEventId: 'e-2' });
    expect(latestRecordData(rm.sql, 'Invoice', 'INV-9')).toEqual({ data: {} });
    expect(entityTimeline(rm.sql, 'Invoice', 'INV-9')).toEqual([]);
    expect(entityTimeline(rm.sql, 'Order', 'INV-7')).toEqual([]);
  });

  it('rebuilds a timeline written by version 2 (entries naming type and id) into numbered records, same entries', () => {
    recorded('INV-7', 'created');
    recorded('INV-8', 'created');
    rm.log.instance('i-1', {
      type: 'InstanceStarted',
      data: {
        instanceId: 'i-1',
        definitionKey: 'invoice-approval',
        definitionVersion: 1,
        definitionName: 'Invoice approval',
        entity: { type: 'Invoice', id: 'INV-7' },
        variables: {},
        cause: { kind: 'api' },
      },
    });
    rm.project();
    const before = entityTimeline(rm.sql, 'Invoice', 'INV-7');
    rm.sql.prepare("UPDATE projections_checkpoint SET version = 2 WHERE name = 'entity-timeline'").run();
    const file = rm.db.file;
    rm.db.close();

    const reopened = ReadModelDb.open(file);
    const projector = new Projector(reopened, allProjections());
    expect(projector.checkpoint()).toBe(0);
    projector.applyBatch(rm.log.events);
    expect(entityTimeline(reopened.sql, 'Invoice', 'INV-7')).toEqual(before);
    expect(before.map((e) => e.kind)).toEqual(['EntityEventRecorded', 'InstanceStarted']);
    expect(reopened.sql.prepare('SELECT entity, entity_type, entity_id FROM timeline_entities').all()).toEqual([
      { entity: 1, entity_type: 'Invoice', entity_id: 'INV-7' },
      { entity: 2, entity_type: 'Invoice', entity_id: 'INV-8' },
    ]);
    reopened.close();
  });
});
