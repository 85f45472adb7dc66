import { evolveAll, type InstanceEvent } from '@lifeline/process-domain';
import {
  archivedWhenDeleted,
  conditionalOrder,
  Driven,
  notifyAndReview,
  purchaseOrder,
} from '../testing/parallel-instances';
import { ReadModelFixture } from '../testing/read-model-fixture';
import { rebuildReadModels } from '../rebuild';
import { Projector, ReadModelDb } from '../read-model-db';
import { allProjections } from '../projections';
import { getInstance, listInstances } from './instances.queries';

const withoutSince = (positions: { token: string; activityId: string; activityType: string }[] | undefined) =>
  positions?.map(({ token, activityId, activityType }) => ({ token, activityId, activityType }));

describe('instances: positions of parallel branches', () => {
  let rm: ReadModelFixture;
  beforeEach(() => {
    rm = new ReadModelFixture();
  });
  afterEach(() => rm.dispose());

  it('shows both reviews after the fork, one after a review completes, then the join, and none at the end', () => {
    const po = new Driven(rm, 'po-1', purchaseOrder).start();
    rm.project();
    const forkedAt = '2026-11-21T10:00:00.000Z';
    expect(getInstance(rm.sql, 'po-1')?.positions).toEqual([
      { token: 'reviews.1.0', activityId: 'finance', activityType: 'human', since: forkedAt },
      { token: 'reviews.1.1', activityId: 'legal', activityType: 'human', since: forkedAt },
    ]);
    expect(withoutSince(getInstance(rm.sql, 'po-1')?.positions)).toEqual(po.expectedPositions());
    // The row of old clients still names the activity entered last.
    expect(getInstance(rm.sql, 'po-1')?.currentActivity).toBe('legal');

    po.complete('finance');
    rm.project();
    // The finance line waits at the join; the legal one is still at its review.
    expect(getInstance(rm.sql, 'po-1')?.positions).toEqual([
      { token: 'reviews.1.0', activityId: 'reviewed', activityType: 'join', since: '2026-11-21T10:01:00.000Z' },
      { token: 'reviews.1.1', activityId: 'legal', activityType: 'human', since: forkedAt },
    ]);
    expect(withoutSince(getInstance(rm.sql, 'po-1')?.positions)).toEqual(po.expectedPositions());

    po.complete('legal');
    rm.project();
    const row = getInstance(rm.sql, 'po-1')!;
    expect(row.status).toBe('completed');
    expect(row.positions).toEqual([]);
    expect(row.currentActivity).toBe('done');
    expect(row.variables).toEqual({ approved: true });
    expect(po.expectedPositions()).toEqual([]);
  });

  it('drops a branch that reached its end while the other still runs, then ends the instance with the last', () => {
    const po = new Driven(rm, 'po-2', notifyAndReview).start();
    rm.project();
    expect(getInstance(rm.sql, 'po-2')?.positions).toEqual([
      { token: 'both.1.1', activityId: 'review', activityType: 'human', since: '2026-11-21T10:00:00.000Z' },
    ]);
    expect(withoutSince(getInstance(rm.sql, 'po-2')?.positions)).toEqual(po.expectedPositions());
    expect(getInstance(rm.sql, 'po-2')?.status).toBe('running');

    po.complete('review');
    rm.project();
    expect(po.state().status).toBe('completed');
    expect(getInstance(rm.sql, 'po-2')).toMatchObject({ status: 'completed', positions: [], currentActivity: 'done' });
  });

  it('adds the line a conditional start begins, and leaves every line when the deleted record sends the flow elsewhere', () => {
    const order = new Driven(rm, 'po-3', conditionalOrder).start();
    order.entityData = { ...order.entityData, priority: 'high' };
    order.recordChanged('evt-2');
    const complaint = new Driven(rm, 'po-4', archivedWhenDeleted).start();
    rm.project();
    expect(withoutSince(getInstance(rm.sql, 'po-3')?.positions)).toEqual([
      { token: 'main', activityId: 'review', activityType: 'human' },
      { token: 'on.1', activityId: 'alert', activityType: 'human' },
    ]);
    expect(withoutSince(getInstance(rm.sql, 'po-4')?.positions)).toEqual([
      { token: 'split.1.0', activityId: 'review', activityType: 'human' },
      { token: 'split.1.1', activityId: 'answer', activityType: 'wait' },
    ]);
    complaint.recordChanged('evt-3', true);
    rm.project();
    expect(withoutSince(getInstance(rm.sql, 'po-4')?.positions)).toEqual([
      { token: 'main', activityId: 'archive', activityType: 'human' },
    ]);
    expect(getInstance(rm.sql, 'po-4')?.status).toBe('running');
  });

  it('moves the positions as the domain moves its lines after every single event', () => {
    new Driven(rm, 'po-1', purchaseOrder).start().complete('finance').complete('legal');
    new Driven(rm, 'po-2', notifyAndReview).start().complete('review');
    const order = new Driven(rm, 'po-3', conditionalOrder).start();
    order.entityData = { ...order.entityData, priority: 'high' };
    order.recordChanged('evt-2').complete('alert').complete('review');
    new Driven(rm, 'po-4', archivedWhenDeleted).start().recordChanged('evt-3', true).complete('archive');
    const suspended = new Driven(rm, 'po-5', archivedWhenDeleted).start().run({ type: 'SuspendInstance' });
    suspended.recordChanged('evt-4', true).run({ type: 'ResumeInstance' });
    const byInstance = new Map<string, InstanceEvent[]>();
    const checked: string[] = [];
    for (const stored of rm.log.events) {
      rm.projector.applyBatch([stored]);
      const id = stored.streamId.slice('instance-'.length);
      const events = [...(byInstance.get(id) ?? []), { type: stored.type, data: stored.data } as InstanceEvent];
      byInstance.set(id, events);
      const state = evolveAll(events);
      const expected =
        state.status === 'none'
          ? []
          : Object.values(state.tokens)
              .filter((t) => t.forked === undefined)
              .map((t) => ({ token: t.token, activityId: t.activityId, activityType: t.activityType }));
      expect({ at: stored.position, positions: withoutSince(getInstance(rm.sql, id)?.positions) }).toEqual({
        at: stored.position,
        positions: expected,
      });
      checked.push(stored.type);
    }
    expect(checked).toEqual(
      expect.arrayContaining([
        'BranchesForked',
        'BranchesJoined',
        'BranchesEnded',
        'ConditionalBranchStarted',
        'RecordDeleted',
        'InstanceResumed',
      ]),
    );
  });

  it('rebuilds positions from the log and lists them with the instance', async () => {
    new Driven(rm, 'po-1', purchaseOrder).start().complete('finance');
    rm.project();
    const target = rm.file('rebuilt.sqlite');
    await rebuildReadModels(rm.log, target);
    const rebuilt = ReadModelDb.open(target);
    try {
      expect(getInstance(rebuilt.sql, 'po-1')?.positions).toEqual(getInstance(rm.sql, 'po-1')?.positions);
      expect(listInstances(rebuilt.sql, { definitionKey: 'purchase-order' })[0]?.positions).toHaveLength(2);
    } finally {
      rebuilt.close();
    }
  });

  it('rebuilds the instances of a file written before positions (version 1) from the log', () => {
    const file = rm.file('old.sqlite');
    const old = ReadModelDb.open(file);
    old.sql.exec(`CREATE TABLE instances (seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, current_activity TEXT)`);
    old.sql.exec(`INSERT INTO projections_checkpoint (name, position, version) VALUES ('instances', 42, 1)`);
    old.close();
    const reopened = ReadModelDb.open(file);
    try {
      const projector = new Projector(reopened, allProjections());
      const columns = (reopened.sql.prepare('PRAGMA table_info(instances)').all() as { name: string }[]).map(
        (c) => c.name,
      );
      expect(columns).toContain('positions');
      expect(projector.positionOf('instances')).toBe(0);
    } finally {
      reopened.close();
    }
  });
});
