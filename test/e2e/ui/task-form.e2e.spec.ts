import { describeInBrowser, envelope, screenshot, signInAs, useUi, type UiHarness } from './browser';

jest.setTimeout(60_000);

describeInBrowser('Task form in a browser: required fields and a several-answer question', () => {
  const harness = useUi();
  let ui: UiHarness;
  beforeEach(() => {
    ui = harness();
  });

  it('carol cannot complete the triage while summary is empty, then answers and completes it', async () => {
    const posted = await ui.lifeline.call(
      'app',
      'POST',
      '/entity-events',
      envelope('Complaint', 'C-42', 'created', {
        customer: 'Dana',
        ownerId: 'carol',
        text: 'The parcel came late and broken',
      }),
    );
    expect(posted.status).toBe(202);
    await ui.lifeline.settle();

    const page = await ui.newPage();
    const completions: string[] = [];
    page.on('request', (request) => {
      if (request.method() === 'POST' && request.url().endsWith('/complete')) completions.push(request.url());
    });
    await signInAs(page, ui.lifeline.url, 'carol');
    await page.locator('.task-row', { hasText: 'C-42' }).locator('a').click();
    const detail = page.locator('.task-detail');
    await detail.getByRole('heading', { level: 2, name: 'Triage the complaint' }).waitFor();
    await expect(detail.locator('label[for="field-summary"]').innerText()).resolves.toContain('*');
    // Several answers: checkboxes, not radio buttons.
    await expect(detail.locator('.question input[type=checkbox]').count()).resolves.toBe(4);
    await expect(detail.locator('.question input[type=radio]').count()).resolves.toBe(0);
    await expect(detail.locator('.complete-form button[type=submit]').allInnerTexts()).resolves.toEqual([
      'Handle',
      'Dismiss',
    ]);

    await detail.getByRole('checkbox', { name: 'Late delivery' }).check();
    await detail.getByRole('checkbox', { name: 'Damaged goods' }).check();
    const handle = detail.getByRole('button', { name: 'Handle' });
    await handle.click();
    const summaryError = detail.locator('#field-summary-error');
    await summaryError.waitFor();
    await expect(summaryError.innerText()).resolves.toContain('summary is required');
    await expect(page.evaluate(() => document.activeElement?.id)).resolves.toBe('field-summary');
    await expect(detail.locator('#field-summary').getAttribute('aria-invalid')).resolves.toBe('true');
    await expect(handle.isEnabled()).resolves.toBe(true);
    await screenshot(page, 'b-required-field');
    expect(completions).toHaveLength(0);
    const stillOpen = await ui.lifeline.call('carol', 'GET', '/tasks?entityType=Complaint&entityId=C-42');
    expect(stillOpen.body.items.map((t: { status: string }) => t.status)).toEqual(['new']);

    await detail.locator('#field-summary').fill('Late and damaged in transit');
    await handle.click();
    await detail.locator('.task-outcome', { hasText: 'Task completed: Handle' }).waitFor();
    expect(completions).toHaveLength(1);
    await screenshot(page, 'b-triage-complete');

    const done = await ui.lifeline.call('carol', 'GET', '/tasks?status=completed&entityId=C-42');
    const triage = await ui.lifeline.call('carol', 'GET', `/tasks/${done.body.items[0].id}`);
    expect(triage.body).toMatchObject({
      result: 'Handle',
      answers: ['Late delivery', 'Damaged goods'],
      fields: { summary: 'Late and damaged in transit' },
    });
    // "Damaged goods" steers the flow to a replacement.
    await ui.lifeline.settle();
    const next = await ui.lifeline.call('carol', 'GET', '/tasks?entityId=C-42');
    expect(next.body.items.map((t: { title: string }) => t.title)).toEqual(['Send a replacement']);
  });

  it('shows the server error message when the server refuses a command', async () => {
    await ui.lifeline.call(
      'app',
      'POST',
      '/entity-events',
      envelope('Complaint', 'C-43', 'created', { customer: 'Eli', ownerId: 'carol' }),
    );
    await ui.lifeline.settle();
    const page = await ui.newPage();
    await signInAs(page, ui.lifeline.url, 'carol');
    await page.locator('.task-row', { hasText: 'C-43' }).locator('a').click();
    const detail = page.locator('.task-detail');
    await detail.getByRole('heading', { level: 2, name: 'Triage the complaint' }).waitFor();
    // Someone else takes the task meanwhile: claiming now is refused by the server.
    const listed = await ui.lifeline.call('carol', 'GET', '/tasks?entityId=C-43');
    const other = ui.lifeline.token('erin', ['support']);
    const claimed = await ui.lifeline.call(other, 'POST', `/tasks/${listed.body.items[0].id}/claim`);
    expect(claimed.status).toBe(200);
    await detail.getByRole('button', { name: 'Claim' }).click();
    const alert = detail.getByRole('alert');
    await alert.filter({ hasText: 'Could not do that' }).waitFor();
    await expect(alert.innerText()).resolves.toMatch(/TASK\./);
  });
});
