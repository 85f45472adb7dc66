import { join } from 'node:path';
import { describeInBrowser, envelope, ROOT, screenshot, signInAs, startUi, type UiHarness } from './browser';

jest.setTimeout(60_000);

describeInBrowser('Taskbox in a browser at 390 px and by keyboard alone', () => {
  let ui: UiHarness;
  beforeAll(async () => {
    ui = await startUi();
    await ui.lifeline.call('app', 'POST', '/entity-events', [
      envelope('Invoice', 'INV-31', 'created', { number: 'INV-31', amount: 1200, ownerId: 'alice', supplier: 'Acme' }),
      envelope('Invoice', 'INV-32', 'created', {
        number: 'INV-32',
        amount: 18500,
        ownerId: 'alice',
        supplier: 'Globex',
      }),
      envelope('Invoice', 'INV-33', 'created', {
        number: 'INV-33',
        amount: 240,
        ownerId: 'alice',
        supplier: 'Initech',
      }),
    ]);
    await ui.lifeline.settle();
  });
  afterEach(() => {
    // A script error in the UI fails the test that caused it.
    expect(ui.pageErrors.splice(0).map(String)).toEqual([]);
  });
  afterAll(async () => {
    await ui?.close();
  });

  it('at 390 px nothing scrolls sideways; Tab reaches a task and Enter opens it', async () => {
    const page = await ui.newPage({ width: 390, height: 844 });
    await signInAs(page, ui.lifeline.url, 'bob');
    await page.locator('.task-row').nth(2).waitFor();
    await expect(page.evaluate(() => document.documentElement.scrollWidth)).resolves.toBeLessThanOrEqual(390);
    await screenshot(page, 'e-taskbox-390');

    let focused = '';
    for (let presses = 0; presses < 40 && !focused.startsWith('task:'); presses += 1) {
      await page.keyboard.press('Tab');
      focused = await page.evaluate(() => {
        const el = document.activeElement as HTMLElement | null;
        return el?.classList.contains('task-link') ? `task:${el.closest('li')?.dataset.taskId}` : (el?.tagName ?? '');
      });
    }
    expect(focused).toMatch(/^task:/);
    // The focus ring is visible on the focused task.
    await expect(page.evaluate(() => getComputedStyle(document.activeElement as Element).outlineStyle)).resolves.toBe(
      'solid',
    );
    // New work arriving meanwhile re-renders the list but leaves the focus where it was.
    await ui.lifeline.call(
      'app',
      'POST',
      '/entity-events',
      envelope('Invoice', 'INV-34', 'created', { number: 'INV-34', amount: 10, ownerId: 'alice' }),
    );
    await page.locator('.task-row', { hasText: 'INV-34' }).waitFor();
    await expect(
      page.evaluate(() => (document.activeElement as HTMLElement | null)?.closest('li')?.dataset.taskId),
    ).resolves.toBe(focused.slice('task:'.length));
    await page.keyboard.press('Enter');
    const heading = page.locator('.task-detail h2');
    await heading.waitFor();
    await expect(heading.innerText()).resolves.toBe('Review the invoice');
    await expect(page.evaluate(() => document.activeElement?.tagName)).resolves.toBe('H2');
    expect(decodeURIComponent(new URL(page.url()).hash)).toBe(`#/tasks/${focused.slice('task:'.length)}`);
    // Stacked: the open task comes before the list, and still nothing scrolls sideways.
    const [detailTop, listTop] = await Promise.all([
      page.locator('.task-detail').boundingBox(),
      page.locator('.task-pane').boundingBox(),
    ]);
    expect(detailTop!.y).toBeLessThan(listTop!.y);
    expect(detailTop!.width).toBeLessThanOrEqual(390);
    await expect(page.evaluate(() => document.documentElement.scrollWidth)).resolves.toBeLessThanOrEqual(390);

    // Claim with the keyboard: Tab to the button, press Enter.
    await page.locator('.task-detail').getByRole('button', { name: 'Claim' }).focus();
    await page.keyboard.press('Enter');
    await page.locator('.task-outcome', { hasText: 'claimed' }).waitFor();
    await screenshot(page, 'e-task-390');
  });

  it('README screenshot: the Taskbox at 1280 px with a task open', async () => {
    const page = await ui.newPage({ width: 1280, height: 900 });
    await signInAs(page, ui.lifeline.url, 'alice');
    await page.locator('.task-row', { hasText: 'INV-32' }).locator('a').click();
    await page.locator('.task-detail h2', { hasText: 'Review the invoice' }).waitFor();
    await page.locator('.task-detail .fields', { hasText: 'Globex' }).waitFor();
    await screenshot(page, 'taskbox', join(ROOT, 'docs', 'screenshots', 'taskbox.png'));
  });
});
