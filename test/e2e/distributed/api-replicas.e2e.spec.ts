import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describePostgres, dropTestSchema, uniqueTestSchema } from '@lifeline/event-store/testing';
import { builtMain, ClusterNode, requireBuilt, until as waitUntil, type Answer } from '@lifeline/testing';

jest.setTimeout(240_000);

const ENGINE_MAIN = builtMain('engine');
const API_MAIN = builtMain('api');
const SECRET = 'api-replicas-e2e-secret-0123456789abcdef';
const RECORDS = 24;

/**
 * A review, then a decision on the record's amount: a big order is approved by hand, a small one ends. The decision
 * runs in the replica that completes the review, on the record as the log has it (written through the other one).
 */
const DEFINITION = {
  key: 'order-check',
  name: 'Order check',
  relatedEntity: 'Order',
  triggers: [{ on: 'created' }],
  start: 'review',
  activities: {
    review: { type: 'human', title: 'Review the order', assignee: { role: 'ops' }, next: 'size' },
    size: { type: 'decision', branches: [{ when: 'entity.amount > 500', next: 'approve' }], otherwise: 'done' },
    approve: { type: 'human', title: 'Approve the order', assignee: { role: 'ops' }, next: 'done' },
    done: { type: 'end' },
  },
};

const order = (n: number, kind: 'created' | 'updated', data: Record<string, unknown>) => ({
  id: `order-${n}-${kind}-${JSON.stringify(data)}`,
  entityType: 'Order',
  entityId: `O-${n}`,
  kind,
  occurredAt: '2026-11-21T10:00:00Z',
  data: { number: `O-${n}`, ...data },
  ...(kind === 'updated' ? { changed: Object.keys(data) } : {}),
});

const USERS = {
  admin: ['admin'],
  app: ['ingest'],
  olga: ['ops'],
  otto: ['ops'],
} satisfies Record<string, string[]>;
type User = keyof typeof USERS;

/** One built process (engine or API) on its own data dir and port, acting as the users above. */
type Node = ClusterNode<User>;
const node = (main: string, env: Record<string, string>): Promise<Node> =>
  ClusterNode.on<User>({ main, env, secret: SECRET, users: USERS });

/** Asks until `done` holds: only for what the engine process does on its own time, never for a minPosition read. */
const until = (ask: () => Promise<Answer>, done: (a: Answer) => boolean, what: string): Promise<Answer> =>
  waitUntil(ask, done, what, { show: (answer) => JSON.stringify(answer.body) });

describePostgres('API replicas on one PostgreSQL log: read-your-writes across processes', (url) => {
  const schema = uniqueTestSchema('replicas');
  const root = mkdtempSync(join(tmpdir(), 'lifeline-replicas-'));
  const shared = {
    LIFELINE_EVENT_STORE: 'postgres',
    LIFELINE_POSTGRES_URL: url,
    LIFELINE_POSTGRES_SCHEMA: schema,
    LIFELINE_ENTITY_SOURCE: 'http',
    LIFELINE_JWT_SECRET: SECRET,
    LIFELINE_DEMO: 'false',
  };
  let engine: Node;
  let a: Node;
  let b: Node;

  beforeAll(async () => {
    requireBuilt(ENGINE_MAIN, API_MAIN);
    engine = await node(ENGINE_MAIN, { ...shared, LIFELINE_DATA_DIR: join(root, 'engine') });
    a = await node(API_MAIN, { ...shared, LIFELINE_DATA_DIR: join(root, 'api-a') });
    b = await node(API_MAIN, { ...shared, LIFELINE_DATA_DIR: join(root, 'api-b') });
    await engine.start();
    await Promise.all([a.start(), b.start()]);
  });

  afterAll(async () => {
    for (const node of [a, b, engine]) await node?.stop('SIGKILL');
    rmSync(root, { recursive: true, force: true });
    await dropTestSchema(url, schema);
  });

  /** The log's head, as the engine reports it. */
  const head = async (): Promise<number> => (await engine.health()).body.head;

  it('a write on one replica is seen by one minPosition read on the other; both equal a rebuild; B killed and restarted catches up', async () => {
    const published = await a.call('admin', 'POST', '/definitions', DEFINITION);
    expect(published.status).toBe(201);
    const definition = await b.call('admin', 'GET', `/definitions/order-check?minPosition=${published.body.position}`);
    expect(definition.status).toBe(200);
    expect(definition.body).toMatchObject({ key: 'order-check', version: published.body.version });

    // Entity events through A; each record's timeline read once through B with A's position.
    for (let n = 0; n < RECORDS; n++) {
      const posted = await a.call('app', 'POST', '/entity-events', order(n, 'created', { amount: 100 + n }));
      expect(posted.body).toMatchObject({ recorded: 1, duplicates: 0 });
      const timeline = await b.call(
        'admin',
        'GET',
        `/entities/Order/O-${n}/timeline?minPosition=${posted.body.position}`,
      );
      expect(timeline.status).toBe(200);
      expect(timeline.body.position).toBeGreaterThanOrEqual(posted.body.position);
      expect(timeline.body.items.map((i: { kind: string }) => i.kind)).toContain('EntityEventRecorded');
    }

    // The engine process starts the instances on its own time.
    const reviews = await until(
      () => a.call('olga', 'GET', '/tasks?limit=100'),
      (t) => t.body.items?.length === RECORDS,
      'one review task per order',
    );
    const tasks = reviews.body.items as { id: string; instanceId: string; title: string; entity: { id: string } }[];
    expect(new Set(tasks.map((t) => t.title))).toEqual(new Set(['Review the order']));
    const makeBig = async (task: (typeof tasks)[number]) => {
      const n = Number(task.entity.id.slice('O-'.length));
      const posted = await a.call('app', 'POST', '/entity-events', order(n, 'updated', { amount: 1000 + n }));
      expect(posted.body).toMatchObject({ recorded: 1 });
    };

    // Claimed and made big through A, read and completed through B, the instance read through A: one request each.
    const killAt = Math.floor(RECORDS / 2);
    for (const task of tasks.slice(0, killAt)) {
      const claimed = await a.call('olga', 'POST', `/tasks/${task.id}/claim`);
      expect(claimed.status).toBe(200);
      const seen = await b.call('olga', 'GET', `/tasks/${task.id}?minPosition=${claimed.body.position}`);
      expect(seen.body).toMatchObject({ id: task.id, assignee: 'olga', status: 'ongoing' });
      await makeBig(task);
      const done = await b.call('olga', 'POST', `/tasks/${task.id}/complete`, {});
      expect(done.status).toBe(200);
      const instance = await a.call('admin', 'GET', `/instances/${task.instanceId}?minPosition=${done.body.position}`);
      // The decision saw the amount written through A a moment before.
      expect(instance.body).toMatchObject({ status: 'running', currentActivity: 'approve' });
    }
    // Mid-stream, B dies without a word while a completion is in flight; A goes on alone, with updates besides.
    const seenByB = (await b.call('olga', 'GET', '/tasks?limit=1')).body.position as number;
    const inFlight = tasks[killAt]!;
    await makeBig(inFlight);
    const cut = b.call('olga', 'POST', `/tasks/${inFlight.id}/complete`, {}).catch(() => undefined);
    await b.stop('SIGKILL');
    const cutAnswer = await cut;
    // Whether or not B committed it before dying, it is done once: A completes it, or finds it completed (409).
    const again = await a.call('otto', 'POST', `/tasks/${inFlight.id}/complete`, {});
    expect(cutAnswer?.status === 200 ? [409] : [200, 409]).toContain(again.status);
    for (const task of tasks.slice(killAt + 1)) {
      await makeBig(task);
      const done = await a.call('otto', 'POST', `/tasks/${task.id}/complete`, {});
      expect(done.status).toBe(200);
    }
    let lastWrite = 0;
    for (let n = 0; n < RECORDS; n += 3) {
      const posted = await a.call(
        'app',
        'POST',
        '/entity-events',
        order(n, 'updated', { amount: 1000 + n, note: `seen ${n}` }),
      );
      lastWrite = posted.body.position;
    }
    const restarted = Date.now();
    await b.start();
    const startedMs = Date.now() - restarted;
    const asked = Date.now();
    const caughtUp = await b.call('olga', 'GET', `/tasks?limit=100&minPosition=${lastWrite}`);
    const answeredMs = Date.now() - asked;
    expect(caughtUp.status).toBe(200);
    expect(caughtUp.body.position).toBeGreaterThanOrEqual(lastWrite);
    const figures = `B missed ${lastWrite - seenByB} events while dead (${seenByB} → ${lastWrite}); restarted in ${startedMs} ms, then one minPosition read answered in ${answeredMs} ms`;

    // The approvals, alternately through each replica.
    const approvals = await until(
      () => b.call('otto', 'GET', '/tasks?limit=100'),
      (t) => t.body.items?.filter((x: { title: string }) => x.title === 'Approve the order').length === RECORDS,
      'one approval task per order',
    );
    for (const [i, task] of (approvals.body.items as { id: string; instanceId: string }[]).entries()) {
      const [writer, reader] = i % 2 === 0 ? [a, b] : [b, a];
      const done = await writer.call('otto', 'POST', `/tasks/${task.id}/complete`, {});
      expect(done.status).toBe(200);
      const instance = await reader.call(
        'admin',
        'GET',
        `/instances/${task.instanceId}?minPosition=${done.body.position}`,
      );
      expect(instance.body.status).toBe('completed');
    }

    // Once the log is still, both replicas answer the same, and so does a rebuild from the log.
    const final = await head();
    const views = async (node: Node) => ({
      tasks: (await node.call('olga', 'GET', `/tasks?limit=100&status=all&minPosition=${final}`)).body,
      instances: (await node.call('admin', 'GET', `/instances?limit=100&minPosition=${final}`)).body,
      timeline: (await node.call('admin', 'GET', `/entities/Order/O-3/timeline?minPosition=${final}`)).body,
    });
    const onA = await views(a);
    const onB = await views(b);
    expect(onA.instances.position).toBe(final);
    expect(onA.instances.items).toHaveLength(RECORDS);
    expect(onA.instances.items.every((i: { status: string }) => i.status === 'completed')).toBe(true);
    expect(onA.timeline.items.filter((i: { kind: string }) => i.kind === 'EntityEventRecorded')).toHaveLength(3);
    expect(onB).toEqual(onA);
    const rebuilt = await a.call('admin', 'POST', '/admin/read-models/rebuild', {});
    expect(rebuilt.status).toBe(200);
    expect(await views(a)).toEqual(onA);
    console.info(`events in the log: ${final}; ${figures}`);
  });
});
