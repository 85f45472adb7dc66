import { createHmac } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import net from 'node:net';
import { BuiltServer } from './built-server';

jest.setTimeout(90_000);

const admin = { sub: 'admin', roles: ['admin'] };
const app = { sub: 'app', roles: ['ingest'] };
const dave = { sub: 'dave', roles: ['onboarding'] };

interface Received {
  headers: IncomingHttpHeaders;
  body: string;
  answered: number;
}

const freePort = () =>
  new Promise<number>((done) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => done(port));
    });
  });

/** Standard Webhooks, computed independently: HMAC-SHA256 of `id.timestamp.body`, keyed with the base64 after whsec_. */
const signatureOf = (secret: string, r: Received): string =>
  'v1,' +
  createHmac('sha256', Buffer.from(secret.slice('whsec_'.length), 'base64'))
    .update(`${String(r.headers['webhook-id'])}.${String(r.headers['webhook-timestamp'])}.${r.body}`)
    .digest('base64');

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('webhooks on the built embedded server: a receiver down for 10 s, then answering 500 twice', () => {
  let server: BuiltServer;
  let receiver: Server | undefined;

  beforeAll(async () => {
    server = await BuiltServer.start({
      LIFELINE_WEBHOOK_RETRY_MS: '250',
      LIFELINE_WEBHOOK_RETRY_MAX_MS: '1500',
      LIFELINE_WEBHOOK_MAX_ATTEMPTS: '40',
      LIFELINE_WEBHOOK_POLL_MS: '200',
    });
  });
  afterAll(async () => {
    await server?.stop();
    await new Promise((r) => (receiver ? receiver.close(r) : r(undefined)));
  });

  it('refuses bad subscriptions with codes, and lets only admins subscribe', async () => {
    const bad = await server.call(admin, 'POST', '/webhooks', { url: 'file:///etc/passwd', events: ['Whatever'] });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('WEBHOOK.INVALID');
    expect(bad.body.error.details).toEqual([
      { path: 'url', message: 'must be http or https' },
      { path: 'events[0]', message: expect.stringContaining('one of InstanceStarted') },
    ]);
    const extra = await server.call(admin, 'POST', '/webhooks', { url: 'http://x.test/', events: ['*'], secret: 'x' });
    expect(extra.status).toBe(400);
    expect(extra.body.error.code).toBe('REQUEST.INVALID');
    expect((await server.call(dave, 'POST', '/webhooks', { url: 'http://x.test/', events: ['*'] })).status).toBe(403);
    const missing = await server.call(admin, 'GET', '/webhooks/00000000-0000-4000-8000-000000000000/deliveries');
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe('WEBHOOK.NOT_FOUND');
  });

  it('every delivery arrives once per id with a valid signature, emit messages included, after 10 s down and two 500s', async () => {
    const port = await freePort();
    const created = await server.call(admin, 'POST', '/webhooks', {
      url: `http://127.0.0.1:${port}/lifeline`,
      events: ['*'],
      description: 'the onboarding team',
    });
    expect(created.status).toBe(201);
    const { id: webhookId, secret } = created.body as { id: string; secret: string };
    expect(secret).toMatch(/^whsec_/);
    const listed = await server.call(admin, 'GET', '/webhooks');
    expect(listed.body.items).toEqual([
      expect.objectContaining({
        id: webhookId,
        events: ['*'],
        status: 'active',
        secretPrefix: secret.slice(0, 10) + '…',
      }),
    ]);
    expect(JSON.stringify(listed.body)).not.toContain(secret);
    const startedAt = Date.now();

    // While the receiver is down: three customers start onboarding, one is verified (which emits CreateAccount).
    for (const n of [1, 2, 3]) {
      const recorded = await server.call(app, 'POST', '/entity-events', {
        id: `cust-${n}-created`,
        entityType: 'Customer',
        entityId: `CUST-${n}`,
        kind: 'created',
        occurredAt: '2026-11-21T10:00:00Z',
        data: { name: `Customer ${n}`, email: `c${n}@example.com`, status: 'New' },
      });
      expect(recorded.status).toBe(202);
    }
    const tasks = await server.until(
      () => server.call(dave, 'GET', '/tasks'),
      (a) => a.body?.items?.length === 3,
    );
    const verify = tasks.body.items.find((t: { entity: { id: string } }) => t.entity.id === 'CUST-1');
    expect(
      (
        await server.call(dave, 'POST', `/tasks/${verify.id}/complete`, {
          result: 'Verified',
          fields: { documentNumber: 'ID-1' },
        })
      ).status,
    ).toBe(200);

    await sleep(Math.max(0, 10_000 - (Date.now() - startedAt)));
    const whileDown = await server.call(admin, 'GET', `/webhooks/${webhookId}/deliveries`);
    expect(whileDown.body.items.length).toBeGreaterThanOrEqual(8);
    for (const d of whileDown.body.items) {
      expect(d).toMatchObject({ status: 'pending', lastStatus: null });
      expect(d.attempts).toBeGreaterThanOrEqual(3);
      expect(d.lastError).toContain('ECONNREFUSED');
    }

    // The receiver comes up and answers 500 to the first two attempts of each message.
    const received: Received[] = [];
    const seen = new Map<string, number>();
    receiver = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
      request.on('end', () => {
        const id = String(request.headers['webhook-id']);
        seen.set(id, (seen.get(id) ?? 0) + 1);
        const answered = seen.get(id)! <= 2 ? 500 : 200;
        received.push({ headers: request.headers, body, answered });
        response.writeHead(answered).end();
      });
    });
    await new Promise<void>((r) => receiver!.listen(port, '127.0.0.1', r));

    const done = await server.until(
      () => server.call(admin, 'GET', `/webhooks/${webhookId}/deliveries`),
      (a) => a.body.items.length > 0 && a.body.items.every((d: { status: string }) => d.status === 'delivered'),
      300,
    );
    const deliveries = done.body.items as { id: string; eventType: string; attempts: number; status: string }[];
    expect(deliveries.every((d) => d.status === 'delivered')).toBe(true);
    const ids = deliveries.map((d) => d.id).sort();

    // Each id: two 500s, then accepted once; every attempt signed with the subscription's secret.
    const accepted = received.filter((r) => r.answered === 200).map((r) => String(r.headers['webhook-id']));
    expect(accepted.sort()).toEqual(ids);
    expect([...seen.values()].every((count) => count === 3)).toBe(true);
    for (const r of received) {
      expect(r.headers['webhook-signature']).toBe(signatureOf(secret, r));
      expect(Math.abs(Number(r.headers['webhook-timestamp']) - Date.now() / 1000)).toBeLessThan(120);
    }

    const bodies = received
      .filter((r) => r.answered === 200)
      .map((r) => JSON.parse(r.body) as { type: string; data: Record<string, unknown> });
    const types = bodies.map((b) => b.type);
    expect(types.filter((t) => t === 'InstanceStarted')).toHaveLength(3);
    expect(types).toEqual(expect.arrayContaining(['TaskCreated', 'TaskCompleted', 'MessageEmitted']));
    // The embedded default's `emit`, delivered without Kafka.
    expect(bodies.find((b) => b.type === 'MessageEmitted')!.data).toMatchObject({
      topic: 'account-commands',
      messageType: 'CreateAccount',
      payload: { customerId: 'CUST-1', name: 'Customer 1', email: 'c1@example.com' },
    });
  });
});
