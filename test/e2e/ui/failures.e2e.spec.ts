import { describeInBrowser, envelope, screenshot, signInAs, useUi, type UiHarness } from './browser';

jest.setTimeout(60_000);

const parcelFlow = (when: string) => ({
  key: 'parcel-check',
  name: 'Parcel check',
  relatedEntity: 'Parcel',
  triggers: [{ on: 'created', when }],
  start: 'weigh',
  activities: {
    weigh: { type: 'human', title: 'Weigh the parcel', assignee: { role: 'accounting' }, next: 'done' },
    done: { type: 'end' },
  },
});

const crateFlow = {
  key: 'crate-count',
  name: 'Crate count',
  relatedEntity: 'Crate',
  triggers: [{ on: 'created' }],
  start: 'count',
  activities: {
    count: { type: 'automatic', set: { n: 'count(for i in 1..entity.size return i)' }, next: 'store' },
    store: { type: 'human', title: 'Store the crate', assignee: { role: 'accounting' }, next: 'done' },
    done: { type: 'end' },
  },
};

describeInBrowser('Failures in a browser: failed starts and incidents are shown, and admins retry them', () => {
  const harness = useUi();
  let ui: UiHarness;
  beforeEach(() => {
    ui = harness();
  });

  it('a failed start shows on the record and in the instance list; Retry says why it fails, then starts it once the definition is fixed', async () => {
    const bomb = 'count(for i in 1..entity.size return i) > 0';
    expect((await ui.lifeline.call('admin', 'POST', '/definitions', parcelFlow(bomb))).status).toBe(201);
    await ui.lifeline.call('app', 'POST', '/entity-events', envelope('Parcel', 'P-1', 'created', { size: 1e8 }));
    await ui.lifeline.settle();

    const page = await ui.newPage();
    await signInAs(page, ui.lifeline.url, 'admin');
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Instances' }).click();
    const listed = page.locator('.start-failures-section li.start-failure');
    await listed.first().waitFor();
    await expect(listed.innerText()).resolves.toMatch(/parcel-check v1 for Parcel P-1 failed evaluating its trigger/);

    await page.goto(`${ui.lifeline.url}/#/records/Parcel/P-1`);
    const failure = page.locator('li.start-failure');
    await failure.waitFor();
    await expect(failure.innerText()).resolves.toContain('(FEEL.BUDGET_EXCEEDED)');
    await expect(page.locator('li.kind-StartFailed').innerText()).resolves.toContain('Failed start');
    const retry = page.getByRole('button', { name: 'Retry the start of parcel-check for Parcel P-1' });
    await retry.click();
    await page
      .locator('.start-failures-section .error-box')
      .filter({ hasText: 'START_FAILURE.FAILED_AGAIN' })
      .waitFor();
    await screenshot(page, 'f-failed-start');

    expect((await ui.lifeline.call('admin', 'POST', '/definitions', parcelFlow('entity.size > 0'))).status).toBe(201);
    await retry.click();
    await failure.filter({ hasText: 'Retried by admin: started' }).waitFor();
    await expect(page.getByRole('button', { name: /^Retry the start/ }).count()).resolves.toBe(0);
    await ui.lifeline.settle();
    const started = await ui.lifeline.call('admin', 'GET', '/instances?entityType=Parcel&entityId=P-1');
    expect(started.body.items).toEqual([expect.objectContaining({ definitionVersion: 2, status: 'running' })]);
  });

  it('someone without the admin or auditor role sees no failed starts on a record', async () => {
    const page = await ui.newPage();
    await signInAs(page, ui.lifeline.url, 'bob');
    await page.goto(`${ui.lifeline.url}/#/records/Parcel/P-1`);
    await page.getByRole('heading', { level: 1, name: 'Parcel P-1' }).waitFor();
    await page.locator('.list-status').filter({ hasText: 'entries' }).waitFor();
    await expect(page.locator('.start-failures-section').isHidden()).resolves.toBe(true);
  });

  it('an incident on an instance has a Retry button for admins: after the record is fixed, it goes on', async () => {
    expect((await ui.lifeline.call('admin', 'POST', '/definitions', crateFlow)).status).toBe(201);
    await ui.lifeline.call('app', 'POST', '/entity-events', envelope('Crate', 'C-1', 'created', { size: 1e8 }));
    await ui.lifeline.settle();
    const [instance] = (await ui.lifeline.call('admin', 'GET', '/instances?entityType=Crate')).body.items;
    expect(instance.incidents).toEqual([expect.objectContaining({ incidentId: 'count-1' })]);
    await ui.lifeline.call('app', 'POST', '/entity-events', envelope('Crate', 'C-1', 'updated', { size: 3 }));
    await ui.lifeline.settle();

    const page = await ui.newPage();
    await signInAs(page, ui.lifeline.url, 'admin');
    await page.goto(`${ui.lifeline.url}/#/instances/${instance.id}`);
    await page.getByRole('button', { name: 'Retry incident count-1' }).click();
    await page.getByText('No open incidents.').waitFor();
    const after = await ui.lifeline.call('admin', 'GET', `/instances/${instance.id}`);
    expect(after.body).toMatchObject({ status: 'running', currentActivity: 'store', variables: { n: 3 } });
  });
});
