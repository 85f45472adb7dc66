import { describeInBrowser, envelope, screenshot, signInAs, useUi, type UiHarness } from './browser';

jest.setTimeout(60_000);

describeInBrowser('Taskbox in a browser: a claimed task leaves the other role members’ lists', () => {
  const harness = useUi();
  let ui: UiHarness;
  beforeEach(() => {
    ui = harness();
  });

  it('alice (accounting) never sees the task bob claimed, and cannot open it by its address', async () => {
    await ui.lifeline.call('app', 'POST', '/entity-events', [
      envelope('Invoice', 'INV-21', 'created', { number: 'INV-21', amount: 300, ownerId: 'alice' }),
      envelope('Invoice', 'INV-22', 'created', { number: 'INV-22', amount: 400, ownerId: 'alice' }),
    ]);
    await ui.lifeline.settle();

    const alice = await ui.newPage();
    await signInAs(alice, ui.lifeline.url, 'alice');
    const aliceRows = alice.locator('.task-row');
    await alice.locator('.task-row', { hasText: 'INV-21' }).waitFor();
    await expect(aliceRows.count()).resolves.toBe(2);

    const bob = await ui.newPage();
    await signInAs(bob, ui.lifeline.url, 'bob');
    await bob.locator('.task-row', { hasText: 'INV-21' }).locator('a').click();
    const taskId = decodeURIComponent(new URL(bob.url()).hash.replace('#/tasks/', ''));
    await bob.locator('.task-detail').getByRole('button', { name: 'Claim' }).click();
    await bob.locator('.task-outcome', { hasText: 'claimed' }).waitFor();

    // Alice's open page drops the claimed task by itself (live), and keeps the other one.
    await alice.locator('.task-row', { hasText: 'INV-21' }).waitFor({ state: 'detached' });
    await expect(aliceRows.allInnerTexts()).resolves.toEqual([expect.stringContaining('INV-22')]);
    await expect(alice.locator('[data-count="new"] .count-n').innerText()).resolves.toBe('1');
    await expect(alice.locator('[data-count="ongoing"] .count-n').innerText()).resolves.toBe('0');
    for (const [status, shown] of [
      ['ongoing', '0 tasks'],
      ['all', '1 task'],
    ]) {
      await alice.getByRole('combobox', { name: 'Status' }).selectOption(status);
      await alice.locator('.list-status', { hasText: new RegExp(`^${shown}$`) }).waitFor();
      await expect(alice.locator('.task-row', { hasText: 'INV-21' }).count()).resolves.toBe(0);
    }
    await alice.getByRole('searchbox', { name: 'Search' }).fill('INV-21');
    await alice.locator('.task-list .empty').waitFor();

    await alice.goto(`${ui.lifeline.url}/#/tasks/${encodeURIComponent(taskId)}`);
    const refused = alice.locator('.task-detail').getByRole('alert');
    await refused.waitFor();
    // The same answer as for a task that does not exist: the address tells her nothing.
    await expect(refused.innerText()).resolves.toContain('No such task (TASK.NOT_FOUND)');
    await screenshot(alice, 'd-alice-cannot-see');

    // Bob still has it, as his.
    const bobs = await ui.lifeline.call('bob', 'GET', '/tasks?status=ongoing');
    expect(bobs.body.items.map((t: { id: string; assignee: string }) => [t.id, t.assignee])).toEqual([[taskId, 'bob']]);
  });
});
