import { PARALLEL_PURCHASE_ORDER, purchaseOrderCreated } from '../helpers/parallel-purchase-order';
import { describeInBrowser, screenshot, signInAs, useUi, type UiHarness } from './browser';

jest.setTimeout(60_000);

describeInBrowser('A parallel instance in a browser: every position highlighted, gateways drawn', () => {
  const harness = useUi();
  let ui: UiHarness;
  beforeEach(() => {
    ui = harness();
  });

  it('an instance with finance and legal reviews open shows both on its diagram, the fork and the join as gateways', async () => {
    expect((await ui.lifeline.call('admin', 'POST', '/definitions', PARALLEL_PURCHASE_ORDER)).status).toBe(201);
    expect((await ui.lifeline.call('app', 'POST', '/entity-events', purchaseOrderCreated('PO-UI-1'))).status).toBe(202);
    await ui.lifeline.settle();
    const listed = await ui.lifeline.call('admin', 'GET', '/instances?entityId=PO-UI-1');
    const instance = listed.body.items[0];
    expect(instance.positions.map((p: { activityId: string }) => p.activityId).sort()).toEqual([
      'financeReview',
      'legalReview',
    ]);

    const page = await ui.newPage();
    await signInAs(page, ui.lifeline.url, 'admin');
    await page.goto(`${ui.lifeline.url}/#/instances/${instance.id}`);
    const flow = page.locator('svg.flow');
    await flow.locator('g.node.is-current').first().waitFor();
    const current = await flow
      .locator('g.node.is-current')
      .evaluateAll((nodes) => nodes.map((n) => (n as SVGGElement).dataset.activity).sort());
    expect(current).toEqual(['financeReview', 'legalReview']);
    await expect(flow.getAttribute('aria-label')).resolves.toMatch(
      /current: (financeReview, legalReview|legalReview, financeReview)$/,
    );

    // The fork and the join are gateway diamonds: + on the parallel fork, + on the join.
    const gateways = await flow.locator('g.node.gateway').evaluateAll((nodes) =>
      nodes.map((n) => ({
        id: (n as SVGGElement).dataset.activity,
        type: (n as SVGGElement).dataset.type,
        shape: n.querySelector('.node-shape')?.tagName,
        points: n.querySelector('.node-shape')?.getAttribute('points')?.split(' ').length,
        marker: n.querySelector('.gateway-marker')?.tagName,
      })),
    );
    expect(gateways).toEqual([
      { id: 'reviews', type: 'parallel', shape: 'polygon', points: 4, marker: 'path' },
      { id: 'reviewed', type: 'join', shape: 'polygon', points: 4, marker: 'path' },
    ]);
    // Each branch has its own arrow out of the fork and into the join; the reviews share a column, one above the other.
    for (const [from, to] of [
      ['reviews', 'financeReview'],
      ['reviews', 'legalReview'],
      ['financeReview', 'reviewed'],
      ['legalReview', 'reviewed'],
    ]) {
      await expect(flow.locator(`g.edge[data-from="${from}"][data-to="${to}"]`).count()).resolves.toBe(1);
    }
    const box = async (id: string) => (await flow.locator(`g.node[data-activity="${id}"] .node-shape`).boundingBox())!;
    const [fork, finance, legal, join] = await Promise.all(
      ['reviews', 'financeReview', 'legalReview', 'reviewed'].map(box),
    );
    expect(finance.x).toBe(legal.x);
    expect(finance.y + finance.height).toBeLessThan(legal.y);
    expect(fork!.x + fork!.width).toBeLessThan(finance!.x);
    expect(join!.x).toBeGreaterThan(finance!.x + finance!.width);
    // The join sits between the two branches.
    expect(join!.y + join!.height / 2).toBeGreaterThan(finance!.y + finance!.height / 2);
    expect(join!.y + join!.height / 2).toBeLessThan(legal!.y + legal!.height / 2);

    // The summary lists both positions; the legend names the gateways.
    await expect(page.locator('ul.positions li').allTextContents()).resolves.toEqual([
      expect.stringContaining('financeReview'),
      expect.stringContaining('legalReview'),
    ]);
    await expect(page.locator('figcaption.legend').innerText()).resolves.toMatch(
      /Parallel fork[\s\S]*Join[\s\S]*Current positions/,
    );
    await screenshot(page, 'parallel-instance');

    // The instance list shows where it is: both reviews.
    await page.goto(`${ui.lifeline.url}/#/instances?entityId=PO-UI-1`);
    const row = page.locator(`tr[data-instance-id="${instance.id}"]`);
    await row.waitFor();
    await expect(row.innerText()).resolves.toContain('financeReview, legalReview');
  });

  it('a fork into four branches of different lengths, an inclusive fork, a fork from a next list, a terminating end, a boundary timer and a conditional start stay readable', async () => {
    const definition = {
      key: 'purchase-order-checks',
      name: 'Purchase order checks',
      relatedEntity: 'PurchaseOrder',
      executionOrder: 90,
      enabled: false,
      triggers: [{ on: 'created' }],
      conditionalStarts: [{ when: 'entity.urgent = true', next: 'hotline' }],
      start: 'triage',
      activities: {
        hotline: { type: 'human', title: 'Call the buyer', assignee: { role: 'finance' }, next: 'hotlineDone' },
        hotlineDone: { type: 'end' },
        triage: { type: 'automatic', set: { triaged: 'true' }, next: ['notifyBuyer', 'checks'] },
        notifyBuyer: { type: 'automatic', set: { notified: 'true' }, next: 'notified' },
        notified: { type: 'end' },
        checks: { type: 'parallel', branches: ['credit', 'stock', 'fraud', 'compliance'] },
        credit: { type: 'human', title: 'Credit check', assignee: { role: 'finance' }, next: 'checked' },
        stock: { type: 'automatic', set: { reserved: 'true' }, next: 'stockArrives' },
        stockArrives: { type: 'wait', timeout: 'PT1H', next: 'checked' },
        fraud: { type: 'service', jobType: 'fraud-check', retries: 3, next: 'checked' },
        compliance: { type: 'human', title: 'Compliance', assignee: { role: 'legal' }, next: 'checked' },
        checked: { type: 'join', next: 'route' },
        route: {
          type: 'inclusive',
          branches: [
            { when: 'entity.amount > 10000', next: 'board' },
            { when: 'entity.urgent = true', next: 'expedite' },
          ],
          otherwise: 'archive',
        },
        board: {
          type: 'human',
          title: 'Board approval',
          assignee: { role: 'legal' },
          results: ['Approve', 'Reject'],
          boundary: [{ after: 'P2D', next: 'cancelled' }],
          next: 'decided',
        },
        expedite: { type: 'automatic', set: { expedited: 'true' }, next: 'decided' },
        archive: { type: 'automatic', set: { archived: 'true' }, next: 'decided' },
        decided: { type: 'join', next: 'outcome' },
        outcome: {
          type: 'decision',
          branches: [{ when: 'board.result = "Reject"', next: 'cancelled' }],
          otherwise: 'done',
        },
        cancelled: { type: 'end', terminate: true },
        done: { type: 'end' },
      },
    };
    const published = await ui.lifeline.call('admin', 'POST', '/definitions', definition);
    expect(published.status).toBe(201);

    const page = await ui.newPage({ width: 1600, height: 900 });
    await signInAs(page, ui.lifeline.url, 'admin');
    await page.goto(`${ui.lifeline.url}/#/processes/purchase-order-checks`);
    const flow = page.locator('.process-detail svg.flow');
    await flow.waitFor();
    const nodes = await flow.locator('g.node').evaluateAll((els) =>
      Object.fromEntries(
        els.map((n) => {
          const r = n.querySelector('.node-shape')!.getBoundingClientRect();
          return [(n as SVGGElement).dataset.activity, { x: r.x, y: r.y, w: r.width, h: r.height }];
        }),
      ),
    );
    type Box = { x: number; y: number; w: number; h: number };
    const at = (id: string): Box => nodes[id] as Box;
    // Every arrow but none here goes forward: each activity stands left of those it leads to.
    const edges = await flow
      .locator('g.edge')
      .evaluateAll((els) => els.map((e) => [(e as SVGGElement).dataset.from!, (e as SVGGElement).dataset.to!]));
    expect(edges).toHaveLength(24);
    for (const [from, to] of edges)
      expect({ from, to, forward: at(from!).x + at(from!).w < at(to!).x }).toEqual({ from, to, forward: true });
    // The four branches share one column, in the order listed; the join comes after the longest of them.
    const branches = ['credit', 'stock', 'fraud', 'compliance'].map(at);
    expect(new Set(branches.map((b) => b.x)).size).toBe(1);
    expect(branches.map((b) => b.y)).toEqual([...branches.map((b) => b.y)].sort((a, b) => a - b));
    expect(at('checked').x).toBeGreaterThan(at('stockArrives').x);
    // No two activities overlap.
    const ids = Object.keys(nodes);
    for (const a of ids)
      for (const b of ids) {
        if (a >= b) continue;
        const [p, q] = [at(a), at(b)];
        const overlap = p.x < q.x + q.w && q.x < p.x + p.w && p.y < q.y + q.h && q.y < p.y + p.h;
        expect({ a, b, overlap }).toEqual({ a, b, overlap: false });
      }
    // Gateways: + for the parallel fork and the joins, o for the inclusive fork; the terminating end is marked.
    const kinds = await flow
      .locator('g.node.gateway')
      .evaluateAll((els) =>
        els.map((n) => `${(n as SVGGElement).dataset.activity}:${n.querySelector('.gateway-marker')!.tagName}`).sort(),
      );
    expect(kinds).toEqual(['checked:path', 'checks:path', 'decided:path', 'route:circle']);
    await expect(
      flow.locator('g.node[data-activity="cancelled"][data-terminate="true"] .terminate-marker').count(),
    ).resolves.toBe(1);
    await expect(flow.locator('g.node[data-activity="done"] .terminate-marker').count()).resolves.toBe(0);
    // A conditional start's line begins in the first column; a boundary timer's arrow leaves its task.
    expect(at('hotline').x).toBe(at('triage').x);
    await expect(
      flow.locator('g.edge-boundary[data-from="board"][data-to="cancelled"] .edge-label').textContent(),
    ).resolves.toBe('after P2D');
    // The fork from triage's next list: each of its arrows starts with the fork mark.
    await expect(flow.locator('g.edge-fork[data-from="triage"] path[marker-start="url(#fork)"]').count()).resolves.toBe(
      2,
    );
    await expect(page.locator('figcaption.legend').innerText()).resolves.toMatch(
      /Inclusive fork[\s\S]*End \(terminates\)/,
    );
    await screenshot(page, 'parallel-definition');
  });
});
