import { describeInBrowser, envelope, screenshot, signInAs, startUi, type UiHarness } from './browser';

jest.setTimeout(60_000);

describeInBrowser('Taskbox in a browser: a task appears live, is claimed and completed with a result', () => {
  let ui: UiHarness;
  beforeAll(async () => {
    ui = await startUi();
  });
  afterAll(async () => {
    await ui?.close();
  });

  it('bob sees an invoice review arrive without a reload, claims it and approves it', async () => {
    const page = await ui.newPage();
    await signInAs(page, ui.lifeline.url, 'bob');
    await page.locator('.task-list .empty').waitFor();
    let navigations = 0;
    page.on('framenavigated', (frame) => {
      if (frame === page.mainFrame()) navigations += 1;
    });

    const posted = await ui.lifeline.call('app', 'POST', '/entity-events', envelope('Invoice', 'INV-7', 'created', { number: 'INV-7', amount: 1200, ownerId: 'alice', supplier: 'Acme' }));
    expect(posted.status).toBe(202);

    const row = page.locator('.task-row', { hasText: 'INV-7' });
    await row.waitFor();
    expect(navigations).toBe(0);
    await expect(row.innerText()).resolves.toContain('Review the invoice');
    await expect(page.locator('[data-count="new"] .count-n').innerText()).resolves.toBe('1');

    await row.locator('a').click();
    const detail = page.locator('.task-detail');
    await detail.getByRole('heading', { level: 2, name: 'Review the invoice' }).waitFor();
    await expect(detail.innerText()).resolves.toContain('Check the supplier and the amount.');
    await expect(detail.locator('.fields').innerText()).resolves.toContain('Acme');
    // Only the task's own results are offered.
    await expect(detail.locator('.complete-form button[type=submit]').allInnerTexts()).resolves.toEqual(['Approve', 'Reject']);

    await detail.getByRole('button', { name: 'Claim' }).click();
    await detail.locator('.task-outcome', { hasText: 'claimed' }).waitFor();
    await expect(detail.locator('.summary').innerText()).resolves.toContain('bob (me)');
    await expect(page.locator('[data-count="ongoing"] .count-n').innerText()).resolves.toBe('1');

    await detail.locator('textarea[name=comment]').fill('Supplier checked');
    await detail.getByRole('button', { name: 'Approve' }).click();
    await detail.locator('.task-outcome', { hasText: 'Task completed: Approve' }).waitFor();
    await page.locator('.task-list .empty').waitFor();
    await screenshot(page, 'a-taskbox-complete');

    const task = await ui.lifeline.call('bob', 'GET', `/tasks?status=completed`);
    expect(task.body.items).toHaveLength(1);
    const details = await ui.lifeline.call('bob', 'GET', `/tasks/${task.body.items[0].id}`);
    expect(details.body).toMatchObject({ status: 'completed', result: 'Approve', completedBy: 'bob', fields: { comment: 'Supplier checked' } });
  });
});
