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
    const flow = page.locator('.instance-diagram');
    const shape = (id: string) => flow.locator(`.bpmn-canvas g.djs-element[data-element-id="${id}"]`);
    await flow.locator('g.djs-element.lifeline-current').first().waitFor();
    const current = await flow
      .locator('g.djs-element.lifeline-current')
      .evaluateAll((nodes) => nodes.map((n) => n.getAttribute('data-element-id')).sort());
    expect(current).toEqual(['financeReview', 'legalReview']);
    await expect(flow.locator('.bpmn-canvas').getAttribute('aria-label')).resolves.toMatch(
      /current: (financeReview, legalReview|legalReview, financeReview)$/,
    );
    // One "here" badge per line.
    await expect(
      flow
        .locator('.position-badge')
        .evaluateAll((els) => els.map((el) => el.closest('[data-activity]')!.getAttribute('data-activity')).sort()),
    ).resolves.toEqual(['financeReview', 'legalReview']);

    // The fork and the join are gateway diamonds (a polygon) with the parallel marker (a path).
    for (const id of ['reviews', 'reviewed']) {
      await expect(shape(id).locator('.djs-visual > polygon').count()).resolves.toBe(1);
      await expect(shape(id).locator('.djs-visual > path').count()).resolves.toBe(1);
    }
    // The fork stands before both reviews, the join after them; the reviews share a column, one above the other.
    const box = async (id: string) => (await shape(id).locator('.djs-visual > :first-child').boundingBox())!;
    const [fork, finance, legal, join] = await Promise.all(
      ['reviews', 'financeReview', 'legalReview', 'reviewed'].map(box),
    );
    expect(finance.x).toBe(legal.x);
    expect(Math.abs(finance.y - legal.y)).toBeGreaterThan(finance.height);
    expect(fork!.x + fork!.width).toBeLessThan(finance!.x);
    expect(join!.x).toBeGreaterThan(finance!.x + finance!.width);

    // The summary lists both positions; the text version says where each activity stands.
    await expect(page.locator('ul.positions li').allTextContents()).resolves.toEqual([
      expect.stringContaining('financeReview'),
      expect.stringContaining('legalReview'),
    ]);
    await expect(flow.locator('figcaption.legend').innerText()).resolves.toMatch(/Current positions/);
    await expect(flow.locator('table.activity-states tr[data-activity="reviews"]').textContent()).resolves.toContain(
      'Parallel fork',
    );
    await expect(flow.locator('table.activity-states tr[data-activity="reviewed"]').textContent()).resolves.toContain(
      'Join',
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
    const flow = page.locator('.process-detail .bpmn-canvas');
    await flow.locator('g.djs-element[data-element-id="triage"]').waitFor();
    const ids = Object.keys(definition.activities);
    const nodes = await flow.locator('g.djs-element.djs-shape').evaluateAll((els) =>
      Object.fromEntries(
        els.map((n) => {
          const r = n.querySelector('.djs-visual > :first-child')!.getBoundingClientRect();
          return [n.getAttribute('data-element-id'), { x: r.x, y: r.y, w: r.width, h: r.height }];
        }),
      ),
    );
    type Box = { x: number; y: number; w: number; h: number };
    const at = (id: string): Box => nodes[id] as Box;
    // Every activity is drawn, under its own id.
    expect(ids.filter((id) => nodes[id] === undefined)).toEqual([]);
    // Each activity stands left of those it leads to (no arrow here goes back).
    const arrows: [string, string][] = [
      ['triage', 'checks'],
      ['checks', 'credit'],
      ['stock', 'stockArrives'],
      ['stockArrives', 'checked'],
      ['credit', 'checked'],
      ['checked', 'route'],
      ['route', 'board'],
      ['board', 'decided'],
      ['decided', 'outcome'],
      ['outcome', 'done'],
      ['hotline', 'hotlineDone'],
    ];
    for (const [from, to] of arrows)
      expect({ from, to, forward: at(from).x + at(from).w < at(to).x }).toEqual({ from, to, forward: true });
    // The four branches share one column; the join comes after the longest of them.
    const branches = ['credit', 'stock', 'fraud', 'compliance'].map(at);
    expect(new Set(branches.map((b) => b.x)).size).toBe(1);
    expect(at('checked').x).toBeGreaterThan(at('stockArrives').x);
    // No two activities overlap.
    for (const a of ids)
      for (const b of ids) {
        if (a >= b) continue;
        const [p, q] = [at(a), at(b)];
        const overlap = p.x < q.x + q.w && q.x < p.x + p.w && p.y < q.y + q.h && q.y < p.y + p.h;
        expect({ a, b, overlap }).toEqual({ a, b, overlap: false });
      }
    // The terminating end is drawn as one (a filled inner circle), the plain end is not.
    await expect(flow.locator('g.djs-element[data-element-id="cancelled"] .djs-visual > circle').count()).resolves.toBe(
      2,
    );
    await expect(flow.locator('g.djs-element[data-element-id="done"] .djs-visual > circle').count()).resolves.toBe(1);
    // The boundary timer on the board approval carries its label.
    await expect(flow.locator('.djs-label').allTextContents()).resolves.toEqual(expect.arrayContaining(['after P2D']));
    // The text version names every activity with its kind.
    const kinds = await page
      .locator('table.activity-figures tbody tr')
      .evaluateAll((rows) =>
        Object.fromEntries(rows.map((r) => [(r as HTMLElement).dataset.activity, r.querySelector('td')!.textContent])),
      );
    expect(kinds).toMatchObject({
      checks: 'Parallel fork',
      route: 'Inclusive fork',
      checked: 'Join',
      cancelled: 'End (terminates)',
      done: 'End',
      stockArrives: 'Wait',
      fraud: 'Service task',
    });
    await screenshot(page, 'parallel-definition');
  });
});
