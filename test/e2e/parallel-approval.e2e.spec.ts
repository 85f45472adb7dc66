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

    // The heatmap counts each line where it rests: one at each review, none at the fork it left.
    const heat = await server.call(
      FRANK,
      'GET',
      `/definitions/purchase-order-parallel/heatmap?version=1&minPosition=${forked.body.lastPosition}`,
    );
    expect(heat.status).toBe(200);
    expect(heat.body).toMatchObject({ definitionKey: 'purchase-order-parallel', version: 1 });
    const here = (heat.body.activities as { activityId: string; instances: number; entered: number }[]).map(
      (a) => `${a.activityId}:${a.instances}/${a.entered}`,
    );
    expect(here).toEqual(['financeReview:1/1', 'legalReview:1/1', 'reviews:0/1']);

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

  it('answers the heatmap of the latest version without one, 400 for a version that is no number, 404 for an unknown version or process', async () => {
    const latest = await server.call(FRANK, 'GET', '/definitions/purchase-order-parallel/heatmap');
    expect(latest.status).toBe(200);
    expect(latest.body.version).toBe(1);
    const bad = await server.call(FRANK, 'GET', '/definitions/purchase-order-parallel/heatmap?version=one');
    expect({ status: bad.status, code: bad.body.error.code }).toEqual({ status: 400, code: 'QUERY.INVALID' });
    const zero = await server.call(FRANK, 'GET', '/definitions/purchase-order-parallel/heatmap?version=0');
    expect({ status: zero.status, code: zero.body.error.code }).toEqual({ status: 400, code: 'QUERY.INVALID' });
    const missing = await server.call(FRANK, 'GET', '/definitions/purchase-order-parallel/heatmap?version=7');
    expect({ status: missing.status, code: missing.body.error.code }).toEqual({
      status: 404,
      code: 'DEFINITION.VERSION_NOT_FOUND',
    });
    const unknown = await server.call(FRANK, 'GET', '/definitions/no-such-process/heatmap');
    expect({ status: unknown.status, code: unknown.body.error.code }).toEqual({
      status: 404,
      code: 'DEFINITION.NOT_FOUND',
    });
  });
});
