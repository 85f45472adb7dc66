import { CreateWebhookCommand, DeleteWebhookCommand, RedeliverWebhookCommand } from '../engine.commands';
import { createHmac } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pino from 'pino';
import { SqliteEventStore } from '@lifeline/event-store';
import { invoiceApproval, T0 } from '@lifeline/testing';
import { EngineRuntime } from '../engine-runtime';
import { FakeClock } from '../shared/clock';
import { loadConfig } from '../shared/config';

const silent = pino({ level: 'silent' });
const origin = (id: string) => ({ commandId: id, correlationId: id, causationId: id });

interface Received {
  headers: IncomingHttpHeaders;
  body: string;
}

/** A receiver that answers what the test says, and keeps every request. */
class Receiver {
  received: Received[] = [];
  answer = 200;
  private constructor(private readonly server: Server) {}
  static async start(): Promise<Receiver> {
    const receiver: Receiver = new Receiver(
      createServer((request, response) => {
        let body = '';
        request.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
        request.on('end', () => {
          receiver.received.push({ headers: request.headers, body });
          response.writeHead(receiver.answer).end();
        });
      }),
    );
    await new Promise<void>((resolve) => receiver.server.listen(0, '127.0.0.1', resolve));
    return receiver;
  }
  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/hook`;
  }
  stop(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

/** The Standard Webhooks signature, computed here from the spec, not with Lifeline's helper. */
const expectedSignature = (secret: string, r: Received): string =>
  'v1,' +
  createHmac('sha256', Buffer.from(secret.replace(/^whsec_/, ''), 'base64'))
    .update(`${String(r.headers['webhook-id'])}.${String(r.headers['webhook-timestamp'])}.${r.body}`)
    .digest('base64');

describe('the webhook outbox on the SQLite store, driven by a FakeClock', () => {
  let dir: string;
  let clock: FakeClock;
  let wallClock: FakeClock;
  let engine: EngineRuntime;
  let receiver: Receiver;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'lifeline-webhooks-'));
    clock = new FakeClock(T0);
    wallClock = new FakeClock('2026-11-30T08:00:00.000Z');
    engine = await EngineRuntime.create(
      loadConfig({
        LIFELINE_DATA_DIR: dir,
        LIFELINE_TIMER_TICK_MS: '0',
        LOG_LEVEL: 'silent',
        LIFELINE_WEBHOOK_RETRY_MS: '1000',
        LIFELINE_WEBHOOK_RETRY_MAX_MS: '3000',
        LIFELINE_WEBHOOK_MAX_ATTEMPTS: '4',
      }),
      { clock, wallClock, logger: silent, store: SqliteEventStore.open(join(dir, 'events.db')) },
    );
    await engine.definitions.publish(JSON.stringify(invoiceApproval()), 'application/json', 'root');
    receiver = await Receiver.start();
  });

  afterEach(async () => {
    await engine.close();
    await receiver.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const recordInvoice = (id: string, invoiceId: string) =>
    engine.ingest.record([
      {
        envelope: {
          id,
          entityType: 'Invoice',
          entityId: invoiceId,
          kind: 'created',
          occurredAt: T0,
          data: { amount: 120, ownerId: 'bob', status: 'Open' },
        },
        source: { kind: 'http' },
      },
    ]);

  it('without a webhook reads no instance event: the relay looks at webhook streams only and skips to the head', async () => {
    await recordInvoice('e-1', 'INV-1');
    const head = await engine.store.headPosition();
    expect(await engine.webhookDeliveries.relayOnce()).toBe(0);
    expect(engine.webhookDeliveries.relayedPosition()).toBe(head);
  });

  it('delivers the events a webhook wants, signed; retries a 500 with a doubling backoff; an event before the webhook is not sent', async () => {
    await recordInvoice('e-1', 'INV-1');
    const created = await engine.commands.createWebhook.execute(
      new CreateWebhookCommand(
        { url: receiver.url, events: ['InstanceStarted', 'TaskCreated'] },
        'admin',
        origin('c-1'),
      ),
    );
    expect(created.secret).toMatch(/^whsec_[A-Za-z0-9+/]{32}$/);
    await recordInvoice('e-2', 'INV-2');
    while ((await engine.webhookDeliveries.relayOnce()) > 0);

    const pending = engine.webhookDeliveries.list(created.id);
    expect(pending.map((d) => [d.eventType, d.status, d.attempts]).sort()).toEqual([
      ['InstanceStarted', 'pending', 0],
      ['TaskCreated', 'pending', 0],
    ]);

    receiver.answer = 500;
    expect(await engine.webhookDeliveries.deliverDue()).toBe(2);
    expect(engine.webhookDeliveries.list(created.id).map((d) => [d.status, d.attempts, d.lastStatus])).toEqual([
      ['pending', 1, 500],
      ['pending', 1, 500],
    ]);
    expect(engine.webhookDeliveries.list(created.id)[0]!.nextAttemptAt).toBe('2026-11-30T08:00:01.000Z');
    expect(await engine.webhookDeliveries.deliverDue()).toBe(0);
    wallClock.advance(1000);
    expect(await engine.webhookDeliveries.deliverDue()).toBe(2);
    expect(engine.webhookDeliveries.list(created.id)[0]!.nextAttemptAt).toBe('2026-11-30T08:00:03.000Z');
    receiver.answer = 204;
    wallClock.advance(1999);
    expect(await engine.webhookDeliveries.deliverDue()).toBe(0);
    wallClock.advance(1);
    expect(await engine.webhookDeliveries.deliverDue()).toBe(2);
    expect(engine.webhookDeliveries.list(created.id).map((d) => [d.status, d.attempts])).toEqual([
      ['delivered', 3],
      ['delivered', 3],
    ]);
    expect(engine.webhookDeliveries.backlog()).toEqual({ pending: 0, dead: 0 });

    // Three attempts of each of two messages, every one signed, the same id on each attempt.
    expect(receiver.received).toHaveLength(6);
    for (const r of receiver.received) {
      expect(r.headers['webhook-signature']).toBe(expectedSignature(created.secret, r));
      expect(String(r.headers['webhook-id'])).toMatch(/^msg_[0-9a-f]{32}$/);
    }
    expect(new Set(receiver.received.map((r) => r.headers['webhook-id'])).size).toBe(2);
    expect(receiver.received.map((r) => r.headers['webhook-timestamp'])).toEqual([
      ...Array(2).fill(String(Date.parse('2026-11-30T08:00:00Z') / 1000)),
      ...Array(2).fill(String(Date.parse('2026-11-30T08:00:01Z') / 1000)),
      ...Array(2).fill(String(Date.parse('2026-11-30T08:00:03Z') / 1000)),
    ]);
    const bodies = receiver.received.map((r) => JSON.parse(r.body) as { type: string; data: { entity?: unknown } });
    expect(new Set(bodies.map((b) => b.type))).toEqual(new Set(['InstanceStarted', 'TaskCreated']));
    // Only INV-2's instance: INV-1 was recorded before the webhook existed.
    expect(receiver.received.every((r) => !r.body.includes('INV-1'))).toBe(true);
    expect(receiver.received.some((r) => r.body.includes('INV-2'))).toBe(true);
  });

  it('a delivery is dead after the last attempt; an admin redelivers it with the same id; a deleted webhook gets nothing more', async () => {
    const created = await engine.commands.createWebhook.execute(
      new CreateWebhookCommand({ url: receiver.url, events: ['*'] }, 'admin', origin('c-1')),
    );
    await recordInvoice('e-1', 'INV-1');
    while ((await engine.webhookDeliveries.relayOnce()) > 0);
    receiver.answer = 503;
    for (let attempt = 0; attempt < 4; attempt++) {
      await engine.webhookDeliveries.deliverDue();
      wallClock.advance(3000);
    }
    const dead = engine.webhookDeliveries.list(created.id);
    expect(dead.map((d) => [d.status, d.attempts, d.lastError])).toEqual([
      ['dead', 4, 'HTTP 503'],
      ['dead', 4, 'HTTP 503'],
    ]);
    expect(engine.webhookDeliveries.backlog()).toEqual({ pending: 0, dead: 2 });
    expect(await engine.webhookDeliveries.deliverDue()).toBe(0);

    receiver.answer = 200;
    await engine.commands.redeliverWebhook.execute(
      new RedeliverWebhookCommand(created.id, dead[0]!.id, 'admin', origin('c-2')),
    );
    await engine.webhookDeliveries.relayOnce();
    expect(await engine.webhookDeliveries.deliverDue()).toBe(1);
    expect(engine.webhookDeliveries.get(created.id, dead[0]!.id)).toMatchObject({ status: 'delivered', attempts: 1 });
    expect(receiver.received.at(-1)!.headers['webhook-id']).toBe(dead[0]!.id);

    await engine.commands.deleteWebhook.execute(new DeleteWebhookCommand(created.id, 'admin', origin('c-3')));
    await recordInvoice('e-2', 'INV-2');
    while ((await engine.webhookDeliveries.relayOnce()) > 0);
    expect(engine.webhookDeliveries.list(created.id)).toHaveLength(2);
    expect(engine.webhookDeliveries.get(created.id, dead[1]!.id)?.status).toBe('dead');
  });

  it('keeps recorded deliveries over a restart and relays the log again without doubling them', async () => {
    const created = await engine.commands.createWebhook.execute(
      new CreateWebhookCommand({ url: receiver.url, events: ['TaskCreated'] }, 'admin', origin('c-1')),
    );
    await recordInvoice('e-1', 'INV-1');
    while ((await engine.webhookDeliveries.relayOnce()) > 0);
    expect(engine.webhookDeliveries.backlog()).toEqual({ pending: 1, dead: 0 });
    const position = engine.webhookDeliveries.relayedPosition();

    // The process stops before sending anything; another starts on the same files.
    await engine.close();
    engine = await EngineRuntime.create(loadConfig({ LIFELINE_DATA_DIR: dir, LIFELINE_TIMER_TICK_MS: '0' }), {
      clock,
      wallClock,
      logger: silent,
      store: SqliteEventStore.open(join(dir, 'events.db')),
    });
    expect(engine.webhookDeliveries.relayedPosition()).toBe(position);
    expect(await engine.webhookDeliveries.deliverDue()).toBe(1);
    expect(receiver.received).toHaveLength(1);

    // A checkpoint lost (the file restored from an older copy): the log is relayed again, nothing is added twice.
    const file = new Database(join(dir, 'webhooks.db'));
    file.prepare('UPDATE relay_checkpoint SET position = 0').run();
    file.close();
    await engine.close();
    engine = await EngineRuntime.create(loadConfig({ LIFELINE_DATA_DIR: dir, LIFELINE_TIMER_TICK_MS: '0' }), {
      clock,
      wallClock,
      logger: silent,
      store: SqliteEventStore.open(join(dir, 'events.db')),
    });
    while ((await engine.webhookDeliveries.relayOnce()) > 0);
    expect(engine.webhookDeliveries.list(created.id).map((d) => d.status)).toEqual(['delivered']);
    expect(await engine.webhookDeliveries.deliverDue()).toBe(0);
  });

  it('a relay batch that fails leaves no webhook it saw behind: an event before a webhook is never sent to it', async () => {
    const first = await engine.commands.createWebhook.execute(
      new CreateWebhookCommand({ url: receiver.url, events: ['TaskCreated'] }, 'admin', origin('c-1')),
    );
    while ((await engine.webhookDeliveries.relayOnce()) > 0);
    await recordInvoice('e-1', 'INV-1');
    const second = await engine.commands.createWebhook.execute(
      new CreateWebhookCommand({ url: receiver.url, events: ['TaskCreated'] }, 'admin', origin('c-2')),
    );
    // The batch's transaction fails once at its end (a full disk, say), after it saw the second webhook.
    const statements = (engine.webhookDeliveries as unknown as { statements: { checkpoint: { run: () => void } } })
      .statements;
    const run = statements.checkpoint.run.bind(statements.checkpoint);
    let failures = 1;
    statements.checkpoint.run = (...args: unknown[]) => {
      if (failures-- > 0) throw new Error('SQLITE_FULL: database or disk is full');
      return (run as (...a: unknown[]) => void)(...args);
    };
    await expect(engine.webhookDeliveries.relayOnce()).rejects.toThrow('SQLITE_FULL');
    while ((await engine.webhookDeliveries.relayOnce()) > 0);
    expect(engine.webhookDeliveries.list(first.id).map((d) => d.eventType)).toEqual(['TaskCreated']);
    expect(engine.webhookDeliveries.list(second.id)).toEqual([]);
  });

  it('refuses a URL that is not http(s) or carries credentials, and unknown event types, with WEBHOOK.INVALID', async () => {
    await expect(
      engine.commands.createWebhook.execute(
        new CreateWebhookCommand({ url: 'ftp://user:pw@example.com', events: ['Nope'] }, 'admin', origin('c-1')),
      ),
    ).rejects.toMatchObject({
      code: 'WEBHOOK.INVALID',
      details: [
        { path: 'url', message: 'must be http or https' },
        { path: 'url', message: 'must not carry credentials' },
        { path: 'events[0]', message: expect.stringContaining('one of InstanceStarted') },
      ],
    });
    expect(await engine.store.readAll(0, 1000, ['webhook-'])).toEqual([]);
  });
});
