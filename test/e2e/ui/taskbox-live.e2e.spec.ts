import { describeInBrowser, envelope, screenshot, signInAs, useUi, type UiHarness } from './browser';

jest.setTimeout(60_000);

describeInBrowser('Taskbox in a browser: a task appears live, is claimed and completed with a result', () => {
  const harness = useUi();
  let ui: UiHarness;
  beforeEach(() => {
    ui = harness();
  });

  it('bob sees an invoice review arrive without a reload, claims it and approves it', async () => {
    const page = await ui.newPage();
    await signInAs(page, ui.lifeline.url, 'bob');
    await page.locator('.task-list .empty').waitFor();
    let navigations = 0;
    page.on('framenavigated', (frame) => {
      if (frame === page.mainFrame()) navigations += 1;
    });

    const posted = await ui.lifeline.call(
      'app',
      'POST',
      '/entity-events',
      envelope('Invoice', 'INV-7', 'created', { number: 'INV-7', amount: 1200, ownerId: 'alice', supplier: 'Acme' }),
    );
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
    await expect(detail.locator('.complete-form button[type=submit]').allInnerTexts()).resolves.toEqual([
      'Approve',
      'Reject',
    ]);

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
    expect(details.body).toMatchObject({
      status: 'completed',
      result: 'Approve',
      completedBy: 'bob',
      fields: { comment: 'Supplier checked' },
    });
  });

  it('bob performs a task later (new start and due) and reassigns another to alice', async () => {
    await ui.lifeline.call('app', 'POST', '/entity-events', [
      envelope('Invoice', 'INV-50', 'created', { number: 'INV-50', amount: 50, ownerId: 'alice' }),
      envelope('Invoice', 'INV-51', 'created', { number: 'INV-51', amount: 51, ownerId: 'alice' }),
    ]);
    await ui.lifeline.settle();
    const page = await ui.newPage();
    await signInAs(page, ui.lifeline.url, 'bob');
    const detail = page.locator('.task-detail');

    await page.locator('.task-row', { hasText: 'INV-50' }).locator('a').click();
    await detail.getByRole('heading', { level: 2, name: 'Review the invoice' }).waitFor();
    await detail.getByRole('button', { name: 'Claim' }).click();
    await detail.locator('.task-outcome', { hasText: 'claimed' }).waitFor();
    await detail.locator('summary', { hasText: 'Perform later' }).click();
    // Without a start, nothing is sent and the field says why.
    await detail.getByRole('button', { name: 'Perform later' }).click();
    await expect(detail.locator('input[name=until]').getAttribute('aria-invalid')).resolves.toBe('true');
    await detail.getByLabel('New start').fill('2026-11-25T09:00');
    await detail.getByLabel('New due date').fill('2026-11-27T17:00');
    await detail.getByRole('button', { name: 'Perform later' }).click();
    await detail.locator('.task-outcome', { hasText: 'Task postponed' }).waitFor();
    await page.locator('.task-row', { hasText: 'INV-50' }).waitFor({ state: 'detached' });
    await expect(page.locator('[data-count="postponed"] .count-n').innerText()).resolves.toBe('1');
    const postponed = await ui.lifeline.call('bob', 'GET', '/tasks?status=postponed');
    const expectedStart = await page.evaluate(() => new Date('2026-11-25T09:00').toISOString());
    const expectedDue = await page.evaluate(() => new Date('2026-11-27T17:00').toISOString());
    expect(postponed.body.items).toEqual([expect.objectContaining({ startAt: expectedStart, dueAt: expectedDue })]);

    await page.locator('.task-row', { hasText: 'INV-51' }).locator('a').click();
    await detail.getByRole('heading', { level: 2, name: 'Review the invoice' }).waitFor();
    await detail.locator('.summary', { hasText: 'INV-51' }).waitFor();
    await detail.getByRole('button', { name: 'Claim' }).click();
    await detail.locator('.task-outcome', { hasText: 'claimed' }).waitFor();
    await detail.locator('summary', { hasText: 'Reassign' }).click();
    await detail.getByLabel('Reassign to').selectOption('user');
    await detail.getByLabel('User id or role').fill('alice');
    await detail.getByRole('button', { name: 'Reassign' }).click();
    await detail.locator('.task-outcome', { hasText: 'Task reassigned to alice' }).waitFor();
    await expect(detail.getByRole('alert').count()).resolves.toBe(0);
    await page.locator('.task-row', { hasText: 'INV-51' }).waitFor({ state: 'detached' });
    const alices = await ui.lifeline.call('alice', 'GET', '/tasks?status=ongoing');
    expect(
      alices.body.items.map((r: { entity: { id: string }; assignee: string }) => [r.entity.id, r.assignee]),
    ).toEqual([['INV-51', 'alice']]);
  });

  it('signs in with a pasted token, keeps it across a reload, and signs out', async () => {
    const page = await ui.newPage();
    await page.goto(ui.lifeline.url + '/');
    await page.getByLabel('Or paste an access token (JWT)').fill('not-a-token');
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.getByRole('alert').filter({ hasText: 'Could not do that' }).waitFor();

    await page.getByLabel('Or paste an access token (JWT)').fill(ui.lifeline.tokens.dave);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.getByRole('heading', { level: 1, name: 'Taskbox' }).waitFor();
    await expect(page.locator('#who').innerText()).resolves.toBe('dave (onboarding)');
    await page.reload();
    await page.getByRole('heading', { level: 1, name: 'Taskbox' }).waitFor();
    await expect(page.evaluate(() => localStorage.getItem('lifeline.token'))).resolves.toBe(ui.lifeline.tokens.dave);

    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('heading', { level: 1, name: 'Sign in to Lifeline' }).waitFor();
    await expect(page.evaluate(() => localStorage.getItem('lifeline.token'))).resolves.toBeNull();
  });
});
