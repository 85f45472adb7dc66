import type { Page } from 'playwright-core';
import { describeInBrowser, envelope, screenshot, signInAs, useUi, type UiHarness } from './browser';

jest.setTimeout(60_000);

const MINUTE = 60_000;

/** A triage, a sizing step that fails for huge claims (an incident), then two reviews in parallel and their join. */
const claim = {
  key: 'claim',
  name: 'Claim',
  relatedEntity: 'Claim',
  triggers: [{ on: 'created' }],
  start: 'triage',
  activities: {
    triage: { type: 'human', title: 'Triage', assignee: { role: 'accounting' }, next: 'size' },
    size: { type: 'automatic', set: { n: 'count(for i in 1..entity.size return i)' }, next: 'checks' },
    checks: { type: 'parallel', branches: ['assess', 'approve'] },
    assess: { type: 'human', title: 'Assess', assignee: { role: 'accounting' }, next: 'joined' },
    approve: { type: 'human', title: 'Approve', assignee: { role: 'accounting' }, next: 'joined' },
    joined: { type: 'join', next: 'done' },
    done: { type: 'end' },
  },
};

/** The figures of each activity in the text table, by activity id. */
const tableFigures = (page: Page, selector: string) =>
  page
    .locator(`${selector} tbody tr`)
    .evaluateAll((rows) =>
      Object.fromEntries(
        rows.map((row) => [
          (row as HTMLElement).dataset.activity,
          Array.from(row.querySelectorAll('td'), (td) => td.textContent),
        ]),
      ),
    );

/** The classes bpmn-js's element of an activity carries (Lifeline's markers among them). */
const markersOf = (page: Page, activityId: string) =>
  page
    .locator(`.bpmn-canvas g.djs-element[data-element-id="${activityId}"]`)
    .evaluate((g) => Array.from(g.classList).filter((c) => c.startsWith('lifeline-')));

describeInBrowser('The process page’s heatmap and the instance page’s positions, drawn by bpmn-js', () => {
  const harness = useUi();
  let ui: UiHarness;
  beforeEach(() => {
    ui = harness();
  });

  const complete = async (entityId: string, activityId: string) => {
    const [instance] = (await ui.lifeline.call('admin', 'GET', `/instances?entityId=${entityId}`)).body.items;
    const taskId = `${instance.id}.${activityId}.1`;
    expect((await ui.lifeline.call('bob', 'POST', `/tasks/${taskId}/claim`)).status).toBe(200);
    expect((await ui.lifeline.call('bob', 'POST', `/tasks/${taskId}/complete`, {})).status).toBe(200);
    await ui.lifeline.settle();
    return instance.id as string;
  };

  it('open a process, see the heatmap: instances, incidents and mean time per activity on the diagram, a heat colour with its legend, and the same figures in a table', async () => {
    expect((await ui.lifeline.call('admin', 'POST', '/definitions', claim)).status).toBe(201);
    for (const [id, size] of [
      ['C1', 1],
      ['C2', 1],
      ['C3', 100_000_000],
    ] as const) {
      expect(
        (await ui.lifeline.call('app', 'POST', '/entity-events', envelope('Claim', id, 'created', { size }))).status,
      ).toBe(202);
    }
    await ui.lifeline.settle();
    await ui.lifeline.advance(10 * MINUTE);
    await complete('C1', 'triage'); // 10 min at triage, then both reviews
    await ui.lifeline.advance(20 * MINUTE);
    await complete('C3', 'triage'); // 30 min at triage, then an incident at size
    await ui.lifeline.advance(5 * MINUTE);
    await complete('C1', 'assess'); // 25 min at assess; the line waits at the join

    const page = await ui.newPage();
    await signInAs(page, ui.lifeline.url, 'admin');
    await page.goto(`${ui.lifeline.url}/#/processes/claim`);
    const heatmap = page.locator('.process-heatmap');
    await heatmap.locator('.heat-badges[data-activity="size"]').waitFor();

    // On the diagram: C2 at triage (C1 and C3 stayed 10 and 30 min), C3 at size with its incident, C1's lines at
    // approve and at the join.
    const badges = await heatmap
      .locator('.heat-badges')
      .evaluateAll((els) =>
        Object.fromEntries(
          els.map((el) => [
            (el as HTMLElement).dataset.activity,
            Array.from(el.children, (c) => `${c.className}:${c.textContent}`),
          ]),
        ),
      );
    expect(badges).toEqual({
      triage: ['heat-here:1', 'heat-mean:⌀ 20 min'],
      size: ['heat-here:1', 'heat-incidents:⚠ 1', 'heat-mean:⌀ 0 s'],
      checks: ['heat-mean:⌀ 0 s'],
      assess: ['heat-mean:⌀ 25 min'],
      approve: ['heat-here:1'],
      joined: ['heat-here:1'],
    });
    // The heat colour by quantile of the mean time spent: triage in the first quarter, assess above it.
    await expect(markersOf(page, 'triage')).resolves.toEqual(['lifeline-heat-1']);
    await expect(markersOf(page, 'assess')).resolves.toEqual(['lifeline-heat-3']);
    await expect(markersOf(page, 'size')).resolves.toEqual(['lifeline-heat-0']);
    await expect(
      heatmap.locator('.heat-legend .heat-swatch').evaluateAll((els) => els.map((el) => el.textContent)),
    ).resolves.toEqual(['20 min', '25 min']);

    // The same figures for screen readers: instances now, incidents, entered, stays ended, mean, longest, heat.
    await expect(tableFigures(page, 'table.activity-figures')).resolves.toEqual({
      triage: ['Human task', '1', '0', '3', '2', '20 min', '30 min', '1 of 4'],
      size: ['Automatic', '1', '1', '2', '1', '0 s', '0 s', '—'],
      checks: ['Parallel fork', '0', '0', '1', '1', '0 s', '0 s', '—'],
      assess: ['Human task', '0', '0', '1', '1', '25 min', '25 min', '3 of 4'],
      approve: ['Human task', '1', '0', '1', '0', '—', '—', '—'],
      joined: ['Join', '1', '0', '1', '0', '—', '—', '—'],
      done: ['End', '0', '0', '0', '0', '—', '—', '—'],
    });
    await screenshot(page, 'process-heatmap');

    // Coloured by the instances there now instead: every activity with one is in the first quarter.
    await heatmap.getByLabel('Colour by').selectOption('instances');
    await expect(markersOf(page, 'assess')).resolves.toEqual(['lifeline-heat-0']);
    await expect(markersOf(page, 'approve')).resolves.toEqual(['lifeline-heat-1']);

    // A new claim arriving shows up live: two at triage.
    await ui.lifeline.call('app', 'POST', '/entity-events', envelope('Claim', 'C4', 'created', { size: 1 }));
    await heatmap.locator('.heat-badges[data-activity="triage"] .heat-here').filter({ hasText: '2' }).waitFor();
  });

  it('open an instance with two parallel lines: both positions highlighted, finished activities marked, each activity’s state in a table', async () => {
    const [instance] = (await ui.lifeline.call('admin', 'GET', '/instances?entityId=C1')).body.items;
    expect(instance.positions.map((p: { activityId: string }) => p.activityId).sort()).toEqual(['approve', 'joined']);

    const page = await ui.newPage();
    await signInAs(page, ui.lifeline.url, 'admin');
    await page.goto(`${ui.lifeline.url}/#/instances/${instance.id}`);
    const diagram = page.locator('.instance-diagram');
    await diagram.locator('.instance-badges[data-activity="approve"]').waitFor();
    const current = await diagram
      .locator('g.djs-element.lifeline-current')
      .evaluateAll((els) => els.map((el) => el.getAttribute('data-element-id')).sort());
    expect(current).toEqual(['approve', 'joined']);
    const finished = await diagram
      .locator('g.djs-element.lifeline-visited')
      .evaluateAll((els) => els.map((el) => el.getAttribute('data-element-id')).sort());
    expect(finished).toEqual(['assess', 'checks', 'size', 'triage']);
    await expect(diagram.locator('.position-badge').count()).resolves.toBe(2);
    await expect(diagram.locator('.bpmn-canvas').getAttribute('aria-label')).resolves.toMatch(
      /current: (approve, joined|joined, approve)$/,
    );
    await expect(tableFigures(page, 'table.activity-states')).resolves.toEqual({
      triage: ['Human task', 'Finished'],
      size: ['Automatic', 'Finished'],
      checks: ['Parallel fork', 'Finished'],
      assess: ['Human task', 'Finished'],
      approve: ['Human task', 'Current'],
      joined: ['Join', 'Current'],
      done: ['End', 'Not reached'],
    });
    await expect(page.locator('ul.positions li').count()).resolves.toBe(2);
    await screenshot(page, 'instance-positions');
  });
});
