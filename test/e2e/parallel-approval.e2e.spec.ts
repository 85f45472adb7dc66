import { BuiltServer, type Answer } from './built-server';
import { PARALLEL_PURCHASE_ORDER, purchaseOrderCreated } from './helpers/parallel-purchase-order';

jest.setTimeout(90_000);

const APP = { sub: 'erp', roles: ['ingest'] };
const ADMIN = { sub: 'ops', roles: ['admin'] };
const FRANK = { sub: 'frank', roles: ['finance'] };
const LENA = { sub: 'lena', roles: ['legal'] };

type Position = { token: string; activityId: string; activityType: string; since: string };
const where = (answer: Answer): string[] =>
  (answer.body.positions as Position[]).map((p) => `${p.activityId}:${p.activityType}`).sort();

describe('a purchase order approved by finance and legal in parallel (built server)', () => {
  let server: BuiltServer;
  beforeAll(async () => {
    server = await BuiltServer.start();
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('forks into two reviews in two Taskboxes, shows both positions, waits at the join, then completes', async () => {
    const published = await server.call(ADMIN, 'POST', '/definitions', PARALLEL_PURCHASE_ORDER);
    expect(published.status).toBe(201);
    expect((await server.call(APP, 'POST', '/entity-events', purchaseOrderCreated('PO-1'))).status).toBe(202);

    const financeTasks = await server.until(
      () => server.call(FRANK, 'GET', '/tasks?entityId=PO-1'),
      (answer) => answer.body.items?.length === 1,
    );
    const legalTasks = await server.until(
      () => server.call(LENA, 'GET', '/tasks?entityId=PO-1'),
      (answer) => answer.body.items?.length === 1,
    );
    const finance = financeTasks.body.items[0];
    const legal = legalTasks.body.items[0];
    expect(finance).toMatchObject({ title: 'Finance review', role: 'finance', status: 'new' });
    expect(legal).toMatchObject({ title: 'Legal review', role: 'legal', status: 'new' });
    expect(legal.instanceId).toBe(finance.instanceId);
    const instanceId = finance.instanceId as string;

    const forked = await server.call(ADMIN, 'GET', `/instances/${instanceId}`);
    expect(forked.status).toBe(200);
    expect(forked.body.status).toBe('running');
    expect(where(forked)).toEqual(['financeReview:human', 'legalReview:human']);
    expect(new Set(forked.body.positions.map((p: Position) => p.token)).size).toBe(2);

    expect((await server.call(FRANK, 'POST', `/tasks/${finance.id}/claim`)).status).toBe(200);
    const financeDone = await server.call(FRANK, 'POST', `/tasks/${finance.id}/complete`, {});
    expect(financeDone.status).toBe(200);
    const waiting = await server.call(
      ADMIN,
      'GET',
      `/instances/${instanceId}?minPosition=${financeDone.body.position}`,
    );
    // Still running: the finance line rests at the join, the legal line at its review.
    expect(waiting.body.status).toBe('running');
    expect(where(waiting)).toEqual(['legalReview:human', 'reviewed:join']);
    expect(waiting.body.variables.approved).toBeUndefined();

    expect((await server.call(LENA, 'POST', `/tasks/${legal.id}/claim`)).status).toBe(200);
    const legalDone = await server.call(LENA, 'POST', `/tasks/${legal.id}/complete`, {});
    expect(legalDone.status).toBe(200);
    const completed = await server.until(
      () => server.call(ADMIN, 'GET', `/instances/${instanceId}?minPosition=${legalDone.body.position}`),
      (answer) => answer.body.status === 'completed',
    );
    expect(completed.body).toMatchObject({
      status: 'completed',
      currentActivity: 'done',
      positions: [],
      variables: { approved: true },
    });

    // The past, as it was: both reviews open right after the fork; the legal review and the join after finance.
    const then = await server.call(ADMIN, 'GET', `/instances/${instanceId}?asOf=${forked.body.lastPosition}`);
    expect(then.status).toBe(200);
    expect(where(then)).toEqual(['financeReview:human', 'legalReview:human']);
    const afterFinance = await server.call(ADMIN, 'GET', `/instances/${instanceId}?asOf=${financeDone.body.position}`);
    expect(where(afterFinance)).toEqual(['legalReview:human', 'reviewed:join']);

    const timeline = await server.call(ADMIN, 'GET', '/entities/PurchaseOrder/PO-1/timeline');
    expect(timeline.status).toBe(200);
    const kinds = (timeline.body.items as { kind: string }[]).map((e) => e.kind);
    const forkAt = kinds.indexOf('BranchesForked');
    const joinAt = kinds.indexOf('BranchesJoined');
    expect(forkAt).toBeGreaterThan(kinds.indexOf('InstanceStarted'));
    expect(joinAt).toBeGreaterThan(forkAt);
    expect(kinds.lastIndexOf('TaskCompleted')).toBeLessThan(joinAt);
    expect(kinds.indexOf('InstanceCompleted')).toBeGreaterThan(joinAt);
    const summaries = (timeline.body.items as { kind: string; summary: string }[])
      .filter((e) => e.kind === 'BranchesForked' || e.kind === 'BranchesJoined')
      .map((e) => e.summary);
    expect(summaries).toEqual([
      'Forked at reviews into financeReview, legalReview',
      'Branches of reviews joined at reviewed',
    ]);
  });
});
