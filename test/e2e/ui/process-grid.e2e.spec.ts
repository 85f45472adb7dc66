import { join } from 'node:path';
import { describeInBrowser, envelope, ROOT, screenshot, signInAs, useUi, type UiHarness } from './browser';

jest.setTimeout(60_000);

describeInBrowser('Process grid in a browser: sort, filter, details, activate and deactivate', () => {
  const harness = useUi();
  let ui: UiHarness;
  beforeEach(() => {
    ui = harness();
  });

  it('an admin deactivates customer onboarding: the next Customer created starts nothing', async () => {
    const page = await ui.newPage();
    await signInAs(page, ui.lifeline.url, 'admin');
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Processes' }).click();
    const rows = page.locator('table.grid tbody tr[data-key]');
    await rows.first().waitFor();
    // Execution order first: invoice (10), onboarding (20), complaints (30).
    await expect(rows.evaluateAll((trs) => trs.map((tr) => (tr as HTMLElement).dataset.key))).resolves.toEqual([
      'invoice-approval',
      'customer-onboarding',
      'complaint-handling',
    ]);
    await page.locator('button[data-sort="name"]').click();
    await expect(rows.evaluateAll((trs) => trs.map((tr) => (tr as HTMLElement).dataset.key))).resolves.toEqual([
      'complaint-handling',
      'customer-onboarding',
      'invoice-approval',
    ]);
    await expect(page.locator('th[aria-sort="ascending"]').innerText()).resolves.toContain('Name');
    await page.locator('button[data-sort="name"]').click();
    await expect(page.locator('th[aria-sort="descending"]').innerText()).resolves.toContain('Name');
    await page.getByRole('searchbox', { name: 'Filter' }).fill('custom');
    await expect(rows.count()).resolves.toBe(1);
    await page.getByRole('searchbox', { name: 'Filter' }).fill('');

    const onboarding = page.locator('tr[data-key="customer-onboarding"]');
    await expect(onboarding.innerText()).resolves.toContain('Enabled');
    await onboarding.getByRole('button', { name: 'Deactivate Customer onboarding' }).click();
    await onboarding.getByRole('button', { name: 'Activate Customer onboarding', exact: true }).waitFor();
    await expect(onboarding.innerText()).resolves.toContain('Disabled');

    await onboarding.getByRole('link', { name: 'Customer onboarding', exact: true }).click();
    const detail = page.locator('.process-detail');
    await detail.getByRole('heading', { level: 2 }).filter({ hasText: 'Customer onboarding' }).waitFor();
    // bpmn-js draws each of the 7 activities; the result flows and the wait's timeout carry their labels.
    await detail.locator('.bpmn-canvas g.djs-element[data-element-id="verify"]').waitFor();
    await expect(detail.locator('table.activity-figures tbody tr').count()).resolves.toBe(7);
    for (const id of ['verify', 'createAccount', 'awaitActive', 'followUp', 'welcome', 'declined', 'done'])
      await expect(detail.locator(`.bpmn-canvas g.djs-element[data-element-id="${id}"]`).count()).resolves.toBe(1);
    await expect(detail.locator('.bpmn-canvas .djs-label').allTextContents()).resolves.toEqual(
      expect.arrayContaining(['Verified', 'Rejected', 'after P3D']),
    );
    await expect(detail.locator('table').first().innerText()).resolves.toContain('created');
    await screenshot(page, 'c-process-deactivated');

    await ui.lifeline.call(
      'app',
      'POST',
      '/entity-events',
      envelope('Customer', 'CU-1', 'created', { name: 'Ada', email: 'ada@example.com' }),
    );
    // A control: an enabled process still starts from the same kind of traffic.
    await ui.lifeline.call(
      'app',
      'POST',
      '/entity-events',
      envelope('Invoice', 'INV-9', 'created', { number: 'INV-9', amount: 90, ownerId: 'alice' }),
    );
    await ui.lifeline.settle();
    const onboardings = await ui.lifeline.call('admin', 'GET', '/instances?definition=customer-onboarding');
    expect(onboardings.body.items).toHaveLength(0);
    const invoices = await ui.lifeline.call('admin', 'GET', '/instances?definition=invoice-approval');
    expect(invoices.body.items).toHaveLength(1);

    await detail.getByRole('link', { name: 'see its instances' }).click();
    await page.locator('td.empty', { hasText: 'No instance matches' }).waitFor();
    await expect(page.getByRole('combobox', { name: 'Process' }).inputValue()).resolves.toBe('customer-onboarding');
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Instances' }).click();
    await page.getByRole('combobox', { name: 'Process' }).selectOption('');
    const instanceRows = page.locator('tr[data-instance-id]');
    await instanceRows.first().waitFor();
    await expect(
      instanceRows.evaluateAll((trs) => trs.map((tr) => (tr as HTMLElement).dataset.definition)),
    ).resolves.toEqual(['invoice-approval']);

    // Reactivated, it starts again.
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Processes' }).click();
    await page
      .locator('tr[data-key="customer-onboarding"]')
      .getByRole('button', { name: 'Activate Customer onboarding', exact: true })
      .click();
    await page
      .locator('tr[data-key="customer-onboarding"]')
      .getByRole('button', { name: 'Deactivate Customer onboarding' })
      .waitFor();
    await ui.lifeline.call(
      'app',
      'POST',
      '/entity-events',
      envelope('Customer', 'CU-2', 'created', { name: 'Bo', email: 'bo@example.com' }),
    );
    await ui.lifeline.settle();
    const after = await ui.lifeline.call('admin', 'GET', '/instances?definition=customer-onboarding');
    expect(after.body.items.map((i: { entity: { id: string } }) => i.entity.id)).toEqual(['CU-2']);
  });

  it('a user who is not an admin sees the grid without activate or deactivate', async () => {
    const page = await ui.newPage();
    await signInAs(page, ui.lifeline.url, 'bob');
    await page.goto(`${ui.lifeline.url}/#/processes`);
    await page.locator('tr[data-key="invoice-approval"]').waitFor();
    await expect(page.getByRole('button', { name: /^(Activate|Deactivate) / }).count()).resolves.toBe(0);
    await expect(page.locator('table.grid thead').innerText()).resolves.not.toContain('Actions');
  });

  it('an instance shows its flow with the current activity, its history and admin operations; the record timeline links back', async () => {
    await ui.lifeline.call(
      'app',
      'POST',
      '/entity-events',
      envelope('Invoice', 'INV-12', 'created', { number: 'INV-12', amount: 500, ownerId: 'alice' }),
    );
    await ui.lifeline.settle();
    const listed = await ui.lifeline.call('admin', 'GET', '/instances?entityId=INV-12');
    const instanceId: string = listed.body.items[0].id;

    const page = await ui.newPage();
    await signInAs(page, ui.lifeline.url, 'admin');
    await page.goto(`${ui.lifeline.url}/#/instances/${instanceId}`);
    const current = page.locator('.bpmn-canvas g.djs-element.lifeline-current');
    await current.waitFor();
    await expect(current.getAttribute('data-element-id')).resolves.toBe('review');
    await expect(page.locator('table.history').innerText()).resolves.toContain('TaskCreated');
    await page.getByRole('button', { name: 'Suspend' }).click();
    await page.getByRole('button', { name: 'Resume' }).waitFor();
    await expect(page.locator('h1').innerText()).resolves.toContain('suspended');
    await screenshot(page, 'c-instance');
    await page.getByRole('button', { name: 'Resume' }).click();
    await page.getByRole('button', { name: 'Suspend' }).waitFor();
    const resumed = await ui.lifeline.call('admin', 'GET', `/instances/${instanceId}`);
    expect(resumed.body.status).toBe('running');

    await page.getByRole('link', { name: 'Invoice INV-12' }).click();
    await page.getByRole('heading', { level: 1, name: 'Invoice INV-12' }).waitFor();
    const entries = page.locator('.timeline-entry');
    await entries.nth(2).waitFor();
    const text = await page.locator('.timeline').innerText();
    expect(text).toContain('EntityEventRecorded');
    expect(text).toContain('InstanceSuspended');
    await expect(page.locator(`.timeline a[href="#/instances/${instanceId}"]`).count()).resolves.toBeGreaterThan(0);
    await screenshot(page, 'c-record-timeline');
  });

  it('README screenshot: the process grid with a definition open', async () => {
    const page = await ui.newPage({ width: 1280, height: 900 });
    await signInAs(page, ui.lifeline.url, 'admin');
    await page.goto(`${ui.lifeline.url}/#/processes/invoice-approval`);
    await page.locator('.process-detail .bpmn-canvas g.djs-element').first().waitFor();
    await expect(page.locator('.process-detail table.activity-figures tbody tr').count()).resolves.toBe(7);
    await screenshot(page, 'process-grid', join(ROOT, 'docs', 'screenshots', 'process-grid.png'));
  });
});
