import { describeInBrowser, screenshot, signInAs, useUi, type UiHarness } from './browser';

jest.setTimeout(60_000);

/** Accounting may start an invoice query by hand; its first task goes to accounting. */
const QUERY = {
  key: 'invoice-query',
  name: 'Invoice query',
  relatedEntity: 'Invoice',
  startableBy: ['accounting'],
  start: 'answer',
  activities: {
    answer: { type: 'human', title: 'Answer the query', assignee: { role: 'accounting' }, next: 'done' },
    done: { type: 'end' },
  },
};

describeInBrowser('Start a process by hand in a browser (startableBy)', () => {
  const harness = useUi();
  let ui: UiHarness;
  beforeAll(async () => {
    ui = harness();
    expect((await ui.lifeline.call('admin', 'POST', '/definitions', QUERY)).status).toBe(201);
    await ui.lifeline.settle();
  });

  it('bob (accounting) starts an invoice query from his Taskbox for a record id he types, and opens its first task', async () => {
    const page = await ui.newPage();
    await signInAs(page, ui.lifeline.url, 'bob');
    const panel = page.locator('details.start-process');
    await panel.locator('summary', { hasText: 'Start a process' }).click();
    // Only the processes he may start: the demo invoice approval (admins only) is not offered.
    await expect(
      panel.getByRole('combobox', { name: 'Record type' }).locator('option').allInnerTexts(),
    ).resolves.toEqual(['Invoice']);
    await expect(panel.getByRole('combobox', { name: 'Process' }).locator('option').allInnerTexts()).resolves.toEqual([
      'Invoice query',
    ]);
    // No id: the field says so and nothing starts.
    await panel.getByRole('button', { name: 'Start' }).click();
    await panel.getByText('Type the id of the record').waitFor();
    await panel.getByRole('textbox', { name: 'Record id' }).fill('INV-77');
    await panel.getByRole('button', { name: 'Start' }).click();

    await panel.locator('.start-outcome', { hasText: 'Started Invoice query for Invoice INV-77.' }).waitFor();
    const instanceId = await panel.locator('a.started-instance').innerText();
    // The new task is in his list too, without a reload.
    await page.locator('.task-row', { hasText: 'INV-77' }).waitFor();
    await screenshot(page, 'start-process-taskbox');
    await panel.getByRole('link', { name: 'Answer the query' }).click();
    await page.locator('.task-detail h2', { hasText: 'Answer the query' }).waitFor();
    // The instance page says who started it (he may see it: he has a task in it).
    await page.goto(`${ui.lifeline.url}/#/instances/${instanceId}`);
    await page.locator('.started-cause', { hasText: 'started by hand by bob' }).waitFor();

    const instance = await ui.lifeline.call('admin', 'GET', `/instances/${instanceId}`);
    expect(instance.body).toMatchObject({
      definitionKey: 'invoice-query',
      entity: { type: 'Invoice', id: 'INV-77' },
      cause: { kind: 'api', by: 'bob' },
    });
  });

  it('from a record page, the record is given; carol (support) is offered nothing', async () => {
    const page = await ui.newPage();
    await signInAs(page, ui.lifeline.url, 'alice');
    await page.goto(`${ui.lifeline.url}/#/records/Invoice/INV-78`);
    const panel = page.locator('details.start-process');
    await panel.locator('summary', { hasText: 'Start a process for this record' }).click();
    await expect(panel.getByRole('textbox', { name: 'Record id' }).count()).resolves.toBe(0);
    await panel.getByRole('button', { name: 'Start' }).click();
    await panel.locator('.start-outcome', { hasText: 'Started Invoice query for Invoice INV-78.' }).waitFor();
    await panel.getByRole('link', { name: 'Answer the query' }).waitFor();

    const carol = await ui.newPage();
    await signInAs(carol, ui.lifeline.url, 'carol');
    await carol.locator('details.start-process[data-state="ready"]').waitFor({ state: 'attached' });
    await expect(carol.locator('details.start-process').isHidden()).resolves.toBe(true);
  });
});
