import type { Locator, Page } from 'playwright-core';
import { describeInBrowser, envelope, screenshot, signInAs, useUi, type UiHarness } from './browser';

jest.setTimeout(90_000);

/** Opens the designer on a new drawing from the Processes page, as an admin does. */
async function openNewDesign(page: Page, url: string): Promise<Locator> {
  await signInAs(page, url, 'admin');
  await page.getByRole('link', { name: 'Processes', exact: true }).click();
  await page.getByRole('link', { name: 'New process' }).click();
  await page.getByRole('heading', { level: 1, name: 'New process' }).waitFor();
  await page.locator('.djs-element[data-element-id="StartEvent_1"]').waitFor();
  return page.locator('form.designer-panel');
}

/** Types into a panel input and leaves it, which commits the value. */
async function type(panel: Locator, label: string | RegExp, value: string): Promise<void> {
  const input = panel.getByLabel(label, { exact: typeof label === 'string' });
  await input.fill(value);
  await input.press('Tab');
}

async function contextPad(page: Page, action: string): Promise<void> {
  await page.locator(`.djs-context-pad .entry[data-action="${action}"]`).click();
}

/** The selected task becomes a user task through the context pad's replace menu. */
async function makeUserTask(page: Page): Promise<void> {
  await contextPad(page, 'replace');
  await page.locator('.djs-popup .entry[data-id="replace-with-user-task"]').click();
  await page.locator('form.designer-panel h3', { hasText: 'User task' }).waitFor();
}

/** Selects an element through the panel's element list (the keyboard's way to reach it). */
async function pick(panel: Locator, label: string): Promise<void> {
  await panel.getByLabel('Element', { exact: true }).selectOption({ label });
}

async function publish(page: Page): Promise<string> {
  const posted = page.waitForRequest((r) => r.method() === 'POST' && /\/definitions\?/.test(r.url()));
  await page.getByRole('button', { name: 'Publish' }).click();
  const request = await posted;
  expect(request.headers()['content-type']).toBe('application/bpmn+xml');
  return request.postData() ?? '';
}

/** Whether the page's beforeunload handlers ask the browser to confirm leaving. */
async function asksBeforeUnload(page: Page): Promise<boolean> {
  return page.evaluate(() => {
    const event = new Event('beforeunload', { cancelable: true });
    window.dispatchEvent(event);
    return event.defaultPrevented;
  });
}

describeInBrowser('Designer in a browser: draw, publish, run; the server problems on their elements', () => {
  const harness = useUi();
  let ui: UiHarness;
  beforeEach(() => {
    ui = harness();
  });

  it('an admin draws a two-step expense approval from scratch, publishes it, and its tasks reach support then accounting', async () => {
    const page = await ui.newPage({ width: 1440, height: 900 });
    const panel = await openNewDesign(page, ui.lifeline.url);

    // The process itself (nothing selected).
    await type(panel, /^Key/, 'expense-approval');
    await type(panel, 'Name', 'Expense approval');
    await type(panel, /^Related entity/, 'Expense');

    // Start: when an expense is created.
    await page.locator('.djs-element[data-element-id="StartEvent_1"]').click();
    await panel.getByLabel('Starts when').selectOption('created');
    await type(panel, 'Condition', 'entity.amount > 0');

    // Step 1: the manager's review (support), with results and a comment field.
    await contextPad(page, 'append.append-task');
    await makeUserTask(page);
    await type(panel, /^Id/, 'managerReview');
    await type(panel, /^Title/, 'Manager approval');
    await panel.getByLabel('Assign to').selectOption('role');
    await type(panel, /^Role/, 'support');
    await type(panel, 'Due in', 'P2D');
    for (const result of ['Approve', 'Reject']) {
      await panel.getByLabel('New result').fill(result);
      await panel.getByRole('button', { name: 'Add result' }).click();
      await panel.getByLabel('Results 1').waitFor();
    }
    await panel.getByLabel('New field name').fill('comment');
    await panel.getByRole('button', { name: 'Add field' }).click();
    await type(panel, 'Label of comment', 'Comment');

    // A decision on the review's result: approved goes to finance, otherwise the rejection end.
    await contextPad(page, 'append.gateway');
    await panel.locator('h3', { hasText: 'Decision' }).waitFor();
    await type(panel, /^Id/, 'approved');
    const gatewayId = 'approved';
    await contextPad(page, 'append.append-task');
    await makeUserTask(page);
    await type(panel, /^Id/, 'financeReview');
    await type(panel, /^Title/, 'Finance approval');
    await type(panel, /^Role/, 'accounting');
    // The panel's Append, the keyboard's way to draw.
    await panel.getByLabel('Append', { exact: true }).selectOption('bpmn:EndEvent');
    await panel.getByRole('button', { name: 'Append', exact: true }).click();
    await panel.locator('h3', { hasText: 'End' }).waitFor();
    await type(panel, /^Id/, 'paid');
    await type(panel, 'Name', 'Paid');
    await page.locator(`.djs-element[data-element-id="${gatewayId}"]`).click();
    await contextPad(page, 'append.end-event');
    await type(panel, /^Id/, 'rejected');
    await type(panel, 'Name', 'Rejected');
    await pick(panel, 'Decision: approved');
    await type(panel, 'Condition to Finance approval', 'managerReview.result = "Approve"');
    await panel.getByLabel('Default flow (otherwise)').selectOption({ label: 'To Rejected' });
    await screenshot(page, 'designer-two-step');

    const xml = await publish(page);
    await page.locator('.publish-outcome', { hasText: 'Published Expense approval as version 1.' }).waitFor();
    // What the panel wrote, in the elements decision 0010 names.
    expect(xml).toContain('<lifeline:definition key="expense-approval" relatedEntity="Expense" />');
    expect(xml).toMatch(/<bpmn:message id="[^"]+" name="Expense\.created" \/>/);
    expect(xml).toMatch(/<lifeline:trigger on="created" when="=entity\.amount (&gt;|&#62;) 0" \/>/);
    expect(xml).toContain('<zeebe:assignmentDefinition candidateGroups="support" />');
    expect(xml).toContain('<zeebe:assignmentDefinition candidateGroups="accounting" />');
    expect(xml).toContain('<zeebe:taskSchedule dueDate="=now() + duration(&#34;P2D&#34;)" />');
    expect(xml).toMatch(
      /<lifeline:task dueIn="P2D">\s*<lifeline:result name="Approve" \/>\s*<lifeline:result name="Reject" \/>/,
    );
    expect(xml).toMatch(/<zeebe:formDefinition formKey="camunda-forms:bpmn:UserTaskForm_\w+" \/>/);
    expect(xml).toContain('=managerReview.result = "Approve"');
    const published = await ui.lifeline.call('admin', 'GET', '/definitions/expense-approval');
    expect(published.body).toMatchObject({ version: 1, relatedEntity: 'Expense', triggers: [{ on: 'created' }] });
    expect(published.body.definition.activities.managerReview).toMatchObject({
      type: 'human',
      title: 'Manager approval',
      assignee: { role: 'support' },
      dueIn: 'P2D',
      results: ['Approve', 'Reject'],
      form: [{ name: 'comment', type: 'text', required: false, label: 'Comment' }],
    });

    await page.getByRole('link', { name: 'Open the process' }).click();
    await page.locator('.process-detail h2', { hasText: 'Expense approval' }).waitFor();

    // Reopened from the process page: the drawing as published; a change publishes version 2.
    await page.getByRole('link', { name: 'Edit in designer' }).click();
    await page.getByRole('heading', { level: 1, name: 'Design expense-approval' }).waitFor();
    await page.locator('.djs-element[data-element-id="managerReview"]').waitFor();
    await pick(panel, 'User task: Manager approval');
    await expect(panel.getByLabel(/^Role/).inputValue()).resolves.toBe('support');
    await expect(panel.getByLabel('Results 2').inputValue()).resolves.toBe('Reject');
    await type(panel, 'Due in', 'P3D');
    await publish(page);
    await page.locator('.publish-outcome', { hasText: 'Published Expense approval as version 2.' }).waitFor();
    const second = await ui.lifeline.call('admin', 'GET', '/definitions/expense-approval');
    expect(second.body.definition.activities.managerReview.dueIn).toBe('P3D');

    const posted = await ui.lifeline.call(
      'app',
      'POST',
      '/entity-events',
      envelope('Expense', 'EXP-7', 'created', { amount: 120, purpose: 'Train to Porto' }),
    );
    expect(posted.status).toBe(202);
    await ui.lifeline.settle();

    const carol = await ui.newPage();
    await signInAs(carol, ui.lifeline.url, 'carol');
    await carol.locator('.task-row', { hasText: 'EXP-7' }).locator('a').click();
    const detail = carol.locator('.task-detail');
    await detail.getByRole('heading', { level: 2, name: 'Manager approval' }).waitFor();
    await detail.getByLabel('Comment').fill('Fine by me');
    await detail.getByRole('button', { name: 'Approve' }).click();
    await detail.locator('.task-outcome', { hasText: 'Task completed: Approve' }).waitFor();
    await ui.lifeline.settle();

    const alice = await ui.newPage();
    await signInAs(alice, ui.lifeline.url, 'alice');
    await alice.locator('.task-row', { hasText: 'EXP-7' }).locator('a').click();
    await alice.locator('.task-detail').getByRole('heading', { level: 2, name: 'Finance approval' }).waitFor();
    await screenshot(alice, 'designer-second-task');
  });

  it('a user task without an assignee is refused, the problem shows on that task, and giving it an assignee clears its marker', async () => {
    const page = await ui.newPage({ width: 1440, height: 900 });
    const panel = await openNewDesign(page, ui.lifeline.url);
    await type(panel, /^Key/, 'unassigned-review');
    await type(panel, 'Name', 'Unassigned review');
    await type(panel, /^Related entity/, 'Expense');
    await page.locator('.djs-element[data-element-id="StartEvent_1"]').click();
    await contextPad(page, 'append.append-task');
    await makeUserTask(page);
    await type(panel, /^Id/, 'review');
    await type(panel, /^Title/, 'Review the expense');
    await contextPad(page, 'append.end-event');

    await publish(page);
    const issues = page.locator('section.issues');
    await issues.getByRole('heading', { name: /The server refused this model/ }).waitFor();
    const overlay = page.locator('.lifeline-issue-overlay[data-element="review"]');
    await overlay.waitFor();
    await expect(overlay.isVisible()).resolves.toBe(true);
    await expect(overlay.innerText()).resolves.toMatch(/assignee/i);
    await expect(page.locator('.djs-element[data-element-id="review"]').getAttribute('class')).resolves.toContain(
      'lifeline-has-issue',
    );
    await screenshot(page, 'designer-invalid');
    await expect(page.locator('.lifeline-issue-overlay').count()).resolves.toBe(1);

    // The list names the element; choosing it selects the task and shows its problem in the panel.
    await page.locator('.djs-element[data-element-id="StartEvent_1"]').click();
    const link = issues.getByRole('button', { name: /^Review the expense: .*assignee/i });
    await link.click();
    await panel.locator('h3', { hasText: 'User task' }).waitFor();
    await expect(panel.locator('.panel-issues').innerText()).resolves.toMatch(/assignee/i);
    const definitions = await ui.lifeline.call('admin', 'GET', '/definitions/unassigned-review');
    expect(definitions.status).toBe(404);

    // Given an assignee, the task's marker and overlay go; its entry says it changed since.
    await type(panel, /^Role/, 'support');
    await page.locator('.lifeline-issue-overlay').waitFor({ state: 'detached' });
    await expect(page.locator('.djs-element[data-element-id="review"]').getAttribute('class')).resolves.not.toContain(
      'lifeline-has-issue',
    );
    await expect(panel.locator('.panel-issues').count()).resolves.toBe(0);
    await expect(issues.locator('.issue-link[data-element="review"]').innerText()).resolves.toMatch(
      /assignee.*\(changed since\)$/i,
    );
    await publish(page);
    await page.locator('.publish-outcome', { hasText: 'Published Unassigned review as version 1.' }).waitFor();
    await expect(issues.isHidden()).resolves.toBe(true);
  });

  it('leaving the designer with unpublished changes asks first; cancelling keeps the drawing, after a publish nothing is asked', async () => {
    const page = await ui.newPage({ width: 1440, height: 900 });
    const dialogs: string[] = [];
    let answer: 'accept' | 'dismiss' = 'dismiss';
    page.on('dialog', (dialog) => {
      dialogs.push(`${dialog.type()}: ${dialog.message()}`);
      void (answer === 'accept' ? dialog.accept() : dialog.dismiss());
    });
    let panel = await openNewDesign(page, ui.lifeline.url);
    await expect(asksBeforeUnload(page)).resolves.toBe(false);
    await type(panel, /^Key/, 'guarded-review');
    await expect(asksBeforeUnload(page)).resolves.toBe(true);

    // Cancelled: still the same designer, same drawing, same address.
    const asked = page.waitForEvent('dialog');
    await page.getByRole('link', { name: 'Processes', exact: true }).click();
    await asked;
    expect(dialogs).toHaveLength(1);
    expect(dialogs[0]).toMatch(/^confirm: .*unpublished changes.*Leave the designer\?$/);
    await expect(page.evaluate(() => location.hash)).resolves.toBe('#/design/new');
    await page.getByRole('heading', { level: 1, name: 'New process' }).waitFor();
    await expect(panel.getByLabel(/^Key/).inputValue()).resolves.toBe('guarded-review');
    await expect(page.locator('main .view').count()).resolves.toBe(1);

    // Accepted: the Processes page.
    answer = 'accept';
    await page.getByRole('link', { name: 'Processes', exact: true }).click();
    await page.getByRole('heading', { level: 1, name: 'Processes' }).waitFor();
    expect(dialogs).toHaveLength(2);
    await expect(asksBeforeUnload(page)).resolves.toBe(false);

    // Published: leaving asks nothing.
    await page.getByRole('link', { name: 'New process' }).click();
    await page.locator('.djs-element[data-element-id="StartEvent_1"]').waitFor();
    panel = page.locator('form.designer-panel');
    await type(panel, /^Key/, 'guarded-review');
    await type(panel, 'Name', 'Guarded review');
    await type(panel, /^Related entity/, 'Expense');
    await page.locator('.djs-element[data-element-id="StartEvent_1"]').click();
    await contextPad(page, 'append.append-task');
    await makeUserTask(page);
    await type(panel, /^Id/, 'review');
    await type(panel, /^Title/, 'Review');
    await type(panel, /^Role/, 'support');
    await contextPad(page, 'append.end-event');
    await publish(page);
    await page.locator('.publish-outcome', { hasText: 'Published Guarded review as version 1.' }).waitFor();
    await expect(asksBeforeUnload(page)).resolves.toBe(false);
    await page.getByRole('link', { name: 'Processes', exact: true }).click();
    await page.getByRole('heading', { level: 1, name: 'Processes' }).waitFor();
    expect(dialogs).toHaveLength(2);
  });
});
