import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { startLifeline, type RunningLifeline } from '@lifeline/testing';

/** Where the UI suites look for a Chromium (the distribution package's path unless told otherwise). */
export const CHROMIUM_PATH = process.env.LIFELINE_CHROMIUM ?? '/usr/bin/chromium';
export const ROOT = join(__dirname, '..', '..', '..');
export const ARTIFACTS = join(ROOT, 'test-artifacts', 'ui');

/**
 * A describe that needs Chromium: without it the suite fails in CI (a missing browser must not
 * look like a pass) and is skipped, with the reason in its name, elsewhere.
 */
export function describeInBrowser(name: string, body: () => void): void {
  if (existsSync(CHROMIUM_PATH)) {
    describe(name, body);
  } else if (process.env.CI) {
    describe(name, () => {
      it('needs Chromium', () => {
        throw new Error(
          `No Chromium at ${CHROMIUM_PATH}: install it (apt-get install chromium) or set LIFELINE_CHROMIUM`,
        );
      });
    });
  } else {
    console.warn(`UI suite "${name}" skipped: no Chromium at ${CHROMIUM_PATH} (set LIFELINE_CHROMIUM)`);
    describe.skip(`${name} (skipped: no Chromium at ${CHROMIUM_PATH})`, body);
  }
}

export interface UiHarness {
  lifeline: RunningLifeline;
  browser: Browser;
  /** Script errors the pages raised (each spec expects none). */
  pageErrors: Error[];
  /** A fresh browser context (its own localStorage) and page at the given viewport. */
  newPage(viewport?: { width: number; height: number }): Promise<Page>;
  close(): Promise<void>;
}

/** A real Lifeline (temp SQLite files, fake clock, demo definitions) and a headless Chromium. */
export async function startUi(): Promise<UiHarness> {
  const lifeline = await startLifeline();
  let browser: Browser;
  try {
    browser = await chromium.launch({
      executablePath: CHROMIUM_PATH,
      headless: true,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
      // Playwright gives every launch its own fresh temp --user-data-dir (it refuses one in args).
    });
  } catch (error) {
    await lifeline.stop();
    throw error;
  }
  const contexts: BrowserContext[] = [];
  const pageErrors: Error[] = [];
  return {
    lifeline,
    browser,
    pageErrors,
    async newPage(viewport = { width: 1280, height: 860 }) {
      const context = await browser.newContext({ viewport, baseURL: lifeline.url, reducedMotion: 'reduce' });
      contexts.push(context);
      const page = await context.newPage();
      page.setDefaultTimeout(10_000);
      page.on('pageerror', (error) => pageErrors.push(error));
      return page;
    },
    async close() {
      for (const context of contexts) await context.close().catch(() => undefined);
      await browser.close().catch(() => undefined);
      await lifeline.stop();
    },
  };
}

/** Signs in through the demo-user picker and waits for the Taskbox. */
export async function signInAs(page: Page, url: string, user: string): Promise<void> {
  await page.goto(url + '/');
  await page.locator(`button[data-user="${user}"]`).click();
  await page.getByRole('heading', { level: 1, name: 'Taskbox' }).waitFor();
  await page.locator('#who').filter({ hasText: user }).waitFor();
}

export async function screenshot(page: Page, name: string, path = join(ARTIFACTS, `${name}.png`)): Promise<string> {
  mkdirSync(dirname(path), { recursive: true });
  await page.screenshot({ path, fullPage: true });
  return path;
}

let sequence = 0;
/** An entity-event envelope with a unique id. */
export function envelope(
  entityType: string,
  entityId: string,
  kind: 'created' | 'updated' | 'deleted',
  data: Record<string, unknown>,
  changed?: string[],
) {
  sequence += 1;
  return {
    id: `ui-${entityType}-${entityId}-${kind}-${sequence}-${Date.now()}`,
    entityType,
    entityId,
    kind,
    occurredAt: '2026-11-21T10:00:00Z',
    data,
    ...(changed ? { changed } : {}),
  };
}

/**
 * One Lifeline and one browser for a describe block: started before its tests, closed after, and
 * every test fails if a page threw a script error meanwhile. Returns the harness once started.
 */
export function useUi(): () => UiHarness {
  let ui: UiHarness | undefined;
  beforeAll(async () => {
    ui = await startUi();
  });
  afterEach(() => {
    // A script error in the UI fails the test that caused it.
    expect(ui?.pageErrors.splice(0).map(String)).toEqual([]);
  });
  afterAll(async () => {
    await ui?.close();
  });
  return () => {
    if (!ui) throw new Error('the UI harness is not started');
    return ui;
  };
}
