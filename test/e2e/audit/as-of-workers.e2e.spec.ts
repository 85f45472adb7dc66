import { join } from 'node:path';
import { startLifeline, type RunningLifeline } from '@lifeline/testing';
import { SqliteEventStore } from '@lifeline/event-store';
import { countTasks, listTasks } from '@lifeline/read-models';
import { readModelsAsOf } from '@lifeline/audit';

/**
 * As-of queries replay the whole log on worker threads: the server keeps answering meanwhile, only
 * admins and auditors may ask for the task list as it was, and a point that does not exist is a 400.
 * The workers run the built worker from dist/: `npm run build` first, as for every e2e suite.
 */

// A few thousand events: long enough to rebuild that other requests arrive while it runs.
const INVOICES = 600;
const EVERYONE = { user: 'eve', roles: ['auditor'], admin: false, everyone: true };

interface TaskListBody {
  position: number;
  counts: Record<string, number>;
  items: { id: string; status: string; assignee: string | null }[];
}

async function fill(lifeline: RunningLifeline): Promise<number> {
  for (let from = 0; from < INVOICES; from += 200) {
    const batch = Array.from({ length: 200 }, (_, k) => ({
      id: `as-of-${from + k}`,
      entityType: 'Invoice',
      entityId: `INV-${from + k}`,
      kind: 'created',
      occurredAt: '2026-11-21T10:00:00Z',
      data: { number: `INV-${from + k}`, amount: 1200, status: 'New', ownerId: 'alice' },
    }));
    const posted = await lifeline.call('app', 'POST', '/entity-events', batch);
    expect(posted.status).toBe(202);
  }
  return lifeline.settle();
}

/** Turns of the event loop (no timers) until the pool runs a rebuild. */
async function untilRunning(lifeline: RunningLifeline, running: number): Promise<void> {
  for (let turn = 0; lifeline.asOf.stats().running < running; turn++) {
    if (turn > 1_000_000) throw new Error('no as-of rebuild started');
    await new Promise((r) => setImmediate(r));
  }
}

describe('as-of queries on worker threads', () => {
  jest.setTimeout(180_000);

  describe('with the default pool', () => {
    let lifeline: RunningLifeline;
    let head: number;
    let auditor: string;
    beforeAll(async () => {
      lifeline = await startLifeline();
      head = await fill(lifeline);
      auditor = lifeline.token('eve', ['auditor']);
    });
    afterAll(async () => {
      await lifeline?.stop();
    });

    it('/health answers while as-of queries rebuild, and every as-of answer is the task list at that position', async () => {
      const queries = [auditor, 'admin', auditor, 'admin'].map((who) =>
        lifeline.call(who, 'GET', `/tasks?asOf=${head}&status=all&limit=500`),
      );
      await untilRunning(lifeline, 1);
      const health = await lifeline.call(null, 'GET', '/health');
      expect(health.status).toBe(200);
      expect(health.body.head).toBe(head);
      // Answered while a rebuild was still running: the event loop was not held by it.
      expect(lifeline.asOf.stats().running).toBeGreaterThan(0);

      const answers = await Promise.all(queries);
      expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200]);
      const bodies = answers.map((a) => a.body as TaskListBody);
      for (const body of bodies) expect(body).toEqual(bodies[0]);

      // At the head, the past is the present: the live read models, seen by someone who sees every task.
      const now = lifeline.clock.nowIso();
      const live = lifeline.readModels.db;
      expect(bodies[0]).toEqual({
        position: head,
        counts: countTasks(live, EVERYONE, {}, now),
        items: listTasks(live, EVERYONE, { status: 'all', limit: 500 }, now),
      });
      // Every invoice's task, whoever it is for; a page holds 500 of them.
      expect(bodies[0]!.counts.new).toBe(INVOICES);
      expect(bodies[0]!.items).toHaveLength(500);
    });

    it('an earlier position answers what the in-request rebuild answered before', async () => {
      const position = Math.floor(head / 2);
      const answer = await lifeline.call(auditor, 'GET', `/tasks?asOf=${position}&status=all&limit=500`);
      expect(answer.status).toBe(200);
      const store = SqliteEventStore.open(join(lifeline.dataDir, 'events.db'), { readonly: true });
      const view = await readModelsAsOf(store, { kind: 'position', position });
      try {
        expect(answer.body).toEqual({
          position: view.position,
          counts: countTasks(view.sql, EVERYONE, {}, view.now),
          items: listTasks(view.sql, EVERYONE, { status: 'all', limit: 500 }, view.now),
        });
        expect(answer.body.items.length).toBeGreaterThan(0);
        expect(answer.body.items.length).toBeLessThan(INVOICES);
      } finally {
        view.close();
        await store.close();
      }
    });

    it('the task list as of a past point is for admin and auditor: anyone else gets 403', async () => {
      for (const who of ['bob', 'alice', lifeline.token('nobody', [])]) {
        const refused = await lifeline.call(who, 'GET', `/tasks?asOf=${head}`);
        expect({ who: who.slice(0, 12), status: refused.status, code: refused.body.error?.code }).toEqual({
          who: who.slice(0, 12),
          status: 403,
          code: 'AUTH.FORBIDDEN',
        });
        expect(JSON.stringify(refused.body)).not.toContain('INV-');
      }
      expect(lifeline.asOf.stats()).toMatchObject({ running: 0, waiting: 0 });
    });

    it.each([
      '2026-02-31T00:00:00Z',
      '2026-02-29T10:00:00Z',
      '2026-04-31T10:00:00Z',
      '2026-11-21T24:00:00Z',
      '2026-11-21T10:60:00Z',
      '2026-11-21T10:00:60Z',
      '2026-11-21T10:00:00+24:00',
    ])('asOf=%s is not a point in time: 400 AUDIT.INVALID_AS_OF on tasks and instances', async (text) => {
      const tasks = await lifeline.call('admin', 'GET', `/tasks?asOf=${encodeURIComponent(text)}`);
      expect({ status: tasks.status, code: tasks.body.error?.code }).toEqual({
        status: 400,
        code: 'AUDIT.INVALID_AS_OF',
      });
      const instanceId = (await lifeline.call('admin', 'GET', '/instances?limit=1')).body.items[0].id;
      const instance = await lifeline.call('admin', 'GET', `/instances/${instanceId}?asOf=${encodeURIComponent(text)}`);
      expect({ status: instance.status, code: instance.body.error?.code }).toEqual({
        status: 400,
        code: 'AUDIT.INVALID_AS_OF',
      });
    });
  });

  describe('with one worker and no queue', () => {
    let lifeline: RunningLifeline;
    let head: number;
    beforeAll(async () => {
      lifeline = await startLifeline({ env: { LIFELINE_AS_OF_WORKERS: '1', LIFELINE_AS_OF_QUEUE: '0' } });
      head = await fill(lifeline);
    });
    it('a query beyond the workers and the queue is refused with 503 AUDIT.BUSY and Retry-After; the running one answers', async () => {
      const first = lifeline.call('admin', 'GET', `/tasks?asOf=${head}`);
      await untilRunning(lifeline, 1);
      const refused = await fetch(`${lifeline.url}/tasks?asOf=${head}`, {
        headers: { authorization: `Bearer ${lifeline.tokens.admin}` },
      });
      expect(refused.status).toBe(503);
      expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('AUDIT.BUSY');
      expect((await first).status).toBe(200);
    });

    it('closing the app stops the workers and refuses what was running', async () => {
      const instanceId = (await lifeline.call('admin', 'GET', '/instances?limit=1')).body.items[0].id;
      const then = await lifeline.call('admin', 'GET', `/instances/${instanceId}?asOf=${head}`);
      expect(then.body).toMatchObject({ id: instanceId, asOf: { position: head } });
      expect(lifeline.asOf.stats().workers).toBe(1);
      const running = lifeline.asOf.tasks({ kind: 'position', position: head }, EVERYONE, {}).catch((e: unknown) => e);
      const pool = lifeline.asOf;
      await lifeline.stop();
      expect(await running).toMatchObject({ code: 'AUDIT.AS_OF_CLOSED' });
      expect(pool.stats()).toEqual({ workers: 0, running: 0, waiting: 0 });
    });
  });
});
