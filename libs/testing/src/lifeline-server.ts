import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLifelineApp, DEMO_USERS, signToken, type LifelineApp } from '@lifeline/api';
import { FakeClock, loadConfig, type Clock } from '@lifeline/engine';
import { loadDemoDefinitions } from '@lifeline/embedded';

export const TEST_SECRET = 'test-secret-for-lifeline-e2e-0123456789';

export interface RunningLifeline extends LifelineApp {
  dataDir: string;
  clock: Clock;
  /** Tokens of the demo users (admin, app, alice, bob, carol, dave). */
  tokens: Record<string, string>;
  token(sub: string, roles: string[]): string;
  /** Fetch with a demo user's token; JSON in and out. */
  call(
    user: string | null,
    method: string,
    path: string,
    body?: unknown,
    headers?: Record<string, string>,
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- a JSON answer of any shape, read by the test
  ): Promise<{ status: number; body: any }>;
  /** Advances the fake clock and fires due timers (no sleeping). */
  advance(ms: number): Promise<void>;
  /** Waits until the process manager and read models have handled everything in the log. */
  settle(): Promise<number>;
  stop(): Promise<void>;
}

/**
 * A real Lifeline on a temp data dir (SQLite files), a fake clock and a free port. Tokens are checked
 * against the system clock unless `authClock` is given (a test that drives token expiry).
 */
export async function startLifeline(
  options: { demo?: boolean; clock?: FakeClock; authClock?: FakeClock; dataDir?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<RunningLifeline> {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'lifeline-e2e-'));
  const clock = options.clock ?? new FakeClock('2026-11-21T10:00:00.000Z');
  const config = {
    ...loadConfig({
      LIFELINE_DATA_DIR: dataDir,
      PORT: '0',
      LOG_LEVEL: 'warn',
      LIFELINE_TIMER_TICK_MS: '0',
      ...options.env,
    }),
    jwtSecret: TEST_SECRET,
  };
  const tokens = Object.fromEntries(DEMO_USERS.map((u) => [u.id, signToken(TEST_SECRET, u.id, u.roles)]));
  const lifeline = await createLifelineApp(config, {
    clock,
    authClock: options.authClock,
    demoUsers: () => DEMO_USERS.map((u) => ({ ...u, token: tokens[u.id]! })),
  });
  if (options.demo !== false) await loadDemoDefinitions(lifeline.engine);
  const settle = async () => {
    const head = await lifeline.engine.store.headPosition();
    await lifeline.engine.reactions.caughtUpTo(head, 10_000);
    const after = await lifeline.engine.store.headPosition();
    if (after !== head) return settle();
    await lifeline.readModels.waitForPosition(after, 10_000);
    return after;
  };
  await settle();
  return {
    ...lifeline,
    dataDir,
    clock,
    tokens,
    token: (sub, roles) => signToken(TEST_SECRET, sub, roles),
    async call(user, method, path, body, headers = {}) {
      const response = await fetch(lifeline.url + path, {
        method,
        headers: {
          ...(user ? { authorization: `Bearer ${tokens[user] ?? user}` } : {}),
          ...(body !== undefined && typeof body !== 'string' ? { 'content-type': 'application/json' } : {}),
          ...headers,
        },
        body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
      });
      const text = await response.text();
      let parsed: unknown = text;
      try {
        parsed = JSON.parse(text);
      } catch {
        // not JSON: keep the text
      }
      return { status: response.status, body: parsed };
    },
    async advance(ms) {
      if (!(clock instanceof FakeClock)) throw new Error('advance needs a FakeClock');
      clock.advance(ms);
      await settle();
      await lifeline.engine.reactions.tick();
      await settle();
    },
    settle,
    async stop() {
      await lifeline.close();
      if (!options.dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
