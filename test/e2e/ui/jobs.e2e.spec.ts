import { describeInBrowser, envelope, screenshot, signInAs, useUi, type UiHarness } from './browser';

jest.setTimeout(60_000);

const chargeFlow = {
  key: 'card-charge',
  name: 'Card charge',
  relatedEntity: 'Order',
  triggers: [{ on: 'created' }],
  start: 'charge',
  activities: {
    charge: {
      type: 'service',
      jobType: 'charge-card',
      retries: 2,
      inputs: { amount: 'entity.amount' },
      errors: { CARD_DECLINED: 'callCustomer' },
      next: 'done',
    },
    callCustomer: { type: 'human', title: 'Call the customer', assignee: { role: 'accounting' }, next: 'done' },
    done: { type: 'end' },
  },
};

describeInBrowser('Service activities in a browser: the instance page shows its jobs', () => {
  const harness = useUi();
  let ui: UiHarness;
  beforeEach(() => {
    ui = harness();
  });

  it('shows the job state, retries left and last error; an admin retries an exhausted job from there', async () => {
    expect((await ui.lifeline.call('admin', 'POST', '/definitions', chargeFlow)).status).toBe(201);
    await ui.lifeline.call('app', 'POST', '/entity-events', envelope('Order', 'O-1', 'created', { amount: 40 }));
    await ui.lifeline.settle();
    const worker = ui.lifeline.token('billing', ['worker']);
    const fetch = { workerId: 'billing-1', types: ['charge-card'], lockDurationMs: 60_000 };
    let [job] = (await ui.lifeline.call(worker, 'POST', '/jobs/fetch-and-lock', fetch)).body.jobs;
    await ui.lifeline.call(worker, 'POST', `/jobs/${job.jobId}/fail`, { workerId: 'billing-1', error: 'gateway down' });
    [job] = (await ui.lifeline.call(worker, 'POST', '/jobs/fetch-and-lock', fetch)).body.jobs;
    await ui.lifeline.call(worker, 'POST', `/jobs/${job.jobId}/fail`, { workerId: 'billing-1', error: 'still down' });

    const page = await ui.newPage();
    await signInAs(page, ui.lifeline.url, 'admin');
    await page.goto(`${ui.lifeline.url}/#/instances/${job.instanceId}`);
    const row = page.locator(`tr[data-job-id="${job.jobId}"]`);
    await row.waitFor();
    await expect(row.innerText()).resolves.toMatch(
      /charge\s+charge-card\s+failed\s+Incident\s+0\s+billing-1\s+—\s+still down\s+Retry/,
    );
    // The diagram (bpmn-js) draws the service task, and its text version (a table, folded) names the type.
    await page.locator('g.djs-element[data-element-id="charge"]').waitFor();
    await expect(page.locator('tr[data-activity="charge"]').textContent()).resolves.toContain('Service task');
    await screenshot(page, 'j-jobs');

    await page.getByRole('button', { name: `Retry job ${job.jobId}` }).click();
    const fresh = page.locator(`tr[data-job-id="${job.jobId.replace(/\.1$/, '.2')}"]`);
    await fresh.waitFor();
    await expect(fresh.innerText()).resolves.toMatch(/available\s+2\s+—/);
    await expect(page.getByRole('button', { name: /^Retry job/ }).count()).resolves.toBe(0);
    expect(ui.pageErrors).toEqual([]);
  });

  it('someone with a task in the instance, without the admin or auditor role, sees the instance but no jobs', async () => {
    expect((await ui.lifeline.call('admin', 'POST', '/definitions', chargeFlow)).status).toBe(201);
    await ui.lifeline.call('app', 'POST', '/entity-events', envelope('Order', 'O-2', 'created', { amount: 90 }));
    await ui.lifeline.settle();
    const worker = ui.lifeline.token('billing', ['worker']);
    const fetch = { workerId: 'billing-1', types: ['charge-card'], lockDurationMs: 60_000 };
    const [job] = (await ui.lifeline.call(worker, 'POST', '/jobs/fetch-and-lock', fetch)).body.jobs;
    const thrown = await ui.lifeline.call(worker, 'POST', `/jobs/${job.jobId}/error`, {
      workerId: 'billing-1',
      code: 'CARD_DECLINED',
    });
    expect(thrown.body.next).toBe('callCustomer');
    await ui.lifeline.settle();

    const page = await ui.newPage();
    await signInAs(page, ui.lifeline.url, 'bob');
    await page.goto(`${ui.lifeline.url}/#/instances/${job.instanceId}`);
    await page.getByRole('heading', { level: 2, name: 'Variables' }).waitFor();
    await expect(page.getByRole('heading', { level: 2, name: 'Jobs' }).count()).resolves.toBe(0);
    expect(ui.pageErrors).toEqual([]);
  });
});
