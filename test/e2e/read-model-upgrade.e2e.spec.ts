import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { createLifelineApp, signToken, type LifelineApp, servedReadModelsFile } from '@lifeline/api';
import { loadConfig } from '@lifeline/engine';
import { startLifeline, TEST_SECRET } from '@lifeline/testing';

const RECORDS = 6000;
const APP = signToken(TEST_SECRET, 'app', ['ingest']);
const ALICE = signToken(TEST_SECRET, 'alice', ['accounting']);

const invoice = (i: number) => ({
  id: `upgrade-${i}`,
  entityType: 'Invoice',
  entityId: `INV-U-${i}`,
  kind: 'created',
  occurredAt: '2026-11-21T10:00:00.000Z',
  data: { number: `INV-U-${i}`, amount: 100 + i, status: 'New', ownerId: 'alice' },
});

async function call(
  url: string,
  token: string | null,
  method: string,
  path: string,
  body?: unknown,
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- a JSON answer of any shape, read by the test
): Promise<{ status: number; retryAfter: string | null; body: any }> {
  const response = await fetch(url + path, {
    method,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, retryAfter: response.headers.get('retry-after'), body: await response.json() };
}

/**
 * The first start after an upgrade that changed a view's layout: the view is rebuilt from the log while the server
 * listens, its queries say so (503 with progress) instead of answering from a half-built view, and every other
 * view, the writes and read-your-writes go on.
 */
describe('a view rebuilt after an upgrade', () => {
  let dataDir: string;
  let app: LifelineApp | undefined;
  beforeAll(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'lifeline-upgrade-e2e-'));
  });
  afterAll(async () => {
    await app?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('answers 503 READ_MODEL.CATCHING_UP for it until rebuilt, and serves the rest meanwhile', async () => {
    const before = await startLifeline({ dataDir });
    let timeline: unknown[];
    try {
      for (let i = 0; i < RECORDS; i += 500) {
        const batch = Array.from({ length: 500 }, (_, j) => invoice(i + j));
        expect((await call(before.url, APP, 'POST', '/entity-events', batch)).status).toBe(202);
      }
      await before.settle();
      const answer = await call(before.url, ALICE, 'GET', '/entities/Invoice/INV-U-7/timeline');
      expect(answer.status).toBe(200);
      timeline = answer.body.items;
      expect(timeline.length).toBeGreaterThanOrEqual(4);
    } finally {
      await before.stop();
    }

    // What a new version of the timeline's layout finds in the file: a checkpoint written by another version.
    const file = new Database(servedReadModelsFile(dataDir));
    file.prepare("UPDATE projections_checkpoint SET version = version + 1 WHERE name = 'entity-timeline'").run();
    file.close();

    const config = loadConfig({
      LIFELINE_DATA_DIR: dataDir,
      PORT: '0',
      LOG_LEVEL: 'error',
      LIFELINE_DEMO: 'false',
      LIFELINE_READ_MODELS_START_WAIT_MS: '0',
    });
    app = await createLifelineApp({ ...config, jwtSecret: TEST_SECRET });
    const url = app.url;

    const refused = await call(url, ALICE, 'GET', '/entities/Invoice/INV-U-7/timeline');
    expect(refused.status).toBe(503);
    expect(refused.retryAfter).toBe('2');
    expect(refused.body.error.code).toBe('READ_MODEL.CATCHING_UP');
    const [view] = refused.body.error.details.views;
    expect(view).toMatchObject({ view: 'entity-timeline', target: RECORDS * 4 + 3 });
    expect(view.position).toBeLessThan(view.target);

    // Bad input is still bad input: 400 before 503.
    const bad = await call(url, ALICE, 'GET', '/entities/Invoice/INV-U-7/timeline?minPosition=soon');
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('QUERY.INVALID_MIN_POSITION');

    const health = await call(url, null, 'GET', '/health');
    expect(health.status).toBe(200);
    expect(health.body.viewsCatchingUp.map((v: { view: string }) => v.view)).toEqual(['entity-timeline']);

    // The other views answer, and a new record's task shows at the position its post answered with.
    const tasks = await call(url, ALICE, 'GET', '/tasks?status=all&limit=1&entityId=INV-U-7');
    expect(tasks.status).toBe(200);
    expect(tasks.body.items).toHaveLength(1);
    const posted = await call(url, APP, 'POST', '/entity-events', [invoice(RECORDS)]);
    expect(posted.status).toBe(202);
    const fresh = await call(
      url,
      ALICE,
      'GET',
      `/tasks?status=all&limit=1&entityId=INV-U-${RECORDS}&minPosition=${posted.body.position}`,
    );
    expect(fresh.status).toBe(200);
    expect(fresh.body.items).toHaveLength(1);
    expect(fresh.body.position).toBeGreaterThanOrEqual(posted.body.position);

    // Once rebuilt, the view answers as it did before the upgrade.
    let rebuilt: Awaited<ReturnType<typeof call>> = refused;
    for (const deadline = Date.now() + 20_000; rebuilt.status === 503 && Date.now() < deadline;) {
      await new Promise((r) => setTimeout(r, 50));
      rebuilt = await call(url, ALICE, 'GET', '/entities/Invoice/INV-U-7/timeline');
    }
    expect(rebuilt.status).toBe(200);
    expect(rebuilt.body.items).toEqual(timeline!);
    expect((await call(url, null, 'GET', '/health')).body.viewsCatchingUp).toEqual([]);
  }, 120_000);
});
