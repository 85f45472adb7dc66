import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { EventStore, StoredEvent } from '@lifeline/event-store';
import { decodeWebhookEvent, webhookWants } from '@lifeline/process-domain';
import type { Logger } from 'pino';
import type { Clock } from '../shared/clock';
import type { WebhookSettings } from '../shared/config';
import { NO_TRACING, type Tracing } from '../shared/tracing';
import { Waker } from '../shared/waker';
import { webhookHeaders, webhookMessageId } from './standard-webhooks';

export type DeliveryStatus = 'pending' | 'delivered' | 'dead';

export interface WebhookDelivery {
  id: string;
  webhookId: string;
  eventId: string;
  eventType: string;
  position: number;
  status: DeliveryStatus;
  attempts: number;
  nextAttemptAt: string | null;
  lastStatus: number | null;
  lastError: string | null;
  createdAt: string;
  deliveredAt: string | null;
}

interface DeliveryRecord {
  id: string;
  webhook_id: string;
  event_id: string;
  event_type: string;
  position: number;
  body: string;
  traceparent: string | null;
  status: DeliveryStatus;
  attempts: number;
  next_at: number;
  last_status: number | null;
  last_error: string | null;
  created_at: number;
  delivered_at: number | null;
}

interface Subscription {
  webhookId: string;
  url: string;
  events: string[];
  secret: string;
}

const WEBHOOK_PREFIX = 'webhook-';
const INSTANCE_PREFIX = 'instance-';
const NARROW = [WEBHOOK_PREFIX] as const;
const WIDE = [WEBHOOK_PREFIX, INSTANCE_PREFIX] as const;
const BATCH = 500;
const SENDS_AT_ONCE = 16;

/**
 * The webhook outbox. A relay reads the log after it is committed (never inside the write path) and
 * turns each event a subscription wants into a delivery row, in the same transaction as its checkpoint,
 * so an event is never skipped and a batch read again inserts nothing twice. A sender posts due
 * deliveries, signed per Standard Webhooks, retrying with a doubling backoff until `maxAttempts`.
 * While no webhook is active only `webhook-` streams are read: without subscribers, no cost per event.
 */
export class WebhookDeliveries {
  private readonly db: Database.Database;
  private readonly subscriptions = new Map<string, Subscription>();
  private position: number;
  private running = false;
  private readonly relayWaker = new Waker();
  private readonly sendWaker = new Waker();
  private loops: Promise<void>[] = [];
  private unlisten: (() => void) | undefined;
  private readonly statements;

  constructor(
    file: string,
    private readonly store: EventStore,
    private readonly settings: WebhookSettings,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly tracing: Tracing = NO_TRACING,
  ) {
    if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('busy_timeout = 5000');
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS relay_checkpoint (id INTEGER PRIMARY KEY CHECK (id = 1), position INTEGER NOT NULL);
      CREATE TABLE IF NOT EXISTS subscriptions (
        webhook_id TEXT PRIMARY KEY, url TEXT NOT NULL, events TEXT NOT NULL, secret TEXT NOT NULL,
        active INTEGER NOT NULL) WITHOUT ROWID;
      CREATE TABLE IF NOT EXISTS deliveries (
        id TEXT PRIMARY KEY, webhook_id TEXT NOT NULL, event_id TEXT NOT NULL, event_type TEXT NOT NULL,
        position INTEGER NOT NULL, body TEXT NOT NULL, traceparent TEXT, status TEXT NOT NULL,
        attempts INTEGER NOT NULL, next_at INTEGER NOT NULL, last_status INTEGER, last_error TEXT,
        created_at INTEGER NOT NULL, delivered_at INTEGER) WITHOUT ROWID;
      CREATE INDEX IF NOT EXISTS deliveries_due ON deliveries(status, next_at);
      CREATE INDEX IF NOT EXISTS deliveries_webhook ON deliveries(webhook_id, position);
    `);
    this.statements = {
      checkpoint: this.db.prepare(
        'INSERT INTO relay_checkpoint (id, position) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET position = excluded.position',
      ),
      subscribe: this.db.prepare(
        'INSERT OR REPLACE INTO subscriptions (webhook_id, url, events, secret, active) VALUES (?, ?, ?, ?, 1)',
      ),
      unsubscribe: this.db.prepare('UPDATE subscriptions SET active = 0 WHERE webhook_id = ?'),
      cancel: this.db.prepare(
        `UPDATE deliveries SET status = 'dead', last_error = 'the webhook was deleted'
         WHERE webhook_id = ? AND status = 'pending'`,
      ),
      redeliver: this.db.prepare(
        `UPDATE deliveries SET status = 'pending', attempts = 0, next_at = ?, last_error = NULL
         WHERE id = ? AND webhook_id = ?`,
      ),
      insert: this.db.prepare(
        `INSERT OR IGNORE INTO deliveries (id, webhook_id, event_id, event_type, position, body, traceparent, status,
           attempts, next_at, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, 'pending', 0, ?, ?)`,
      ),
      due: this.db.prepare<[number, number], DeliveryRecord>(
        `SELECT * FROM deliveries WHERE status = 'pending' AND next_at <= ? ORDER BY next_at, position LIMIT ?`,
      ),
      nextDue: this.db.prepare<[], { next: number | null }>(
        `SELECT min(next_at) AS next FROM deliveries WHERE status = 'pending'`,
      ),
      delivered: this.db.prepare(
        `UPDATE deliveries SET status = 'delivered', attempts = attempts + 1, last_status = ?, last_error = NULL,
           delivered_at = ? WHERE id = ? AND status = 'pending'`,
      ),
      failed: this.db.prepare(
        `UPDATE deliveries SET status = ?, attempts = ?, next_at = ?, last_status = ?, last_error = ?
         WHERE id = ? AND status = 'pending'`,
      ),
      backlog: this.db.prepare<[], { status: DeliveryStatus; count: number }>(
        `SELECT status, count(*) AS count FROM deliveries WHERE status != 'delivered' GROUP BY status`,
      ),
    };
    this.position =
      (this.db.prepare('SELECT position FROM relay_checkpoint WHERE id = 1').get() as { position: number } | undefined)
        ?.position ?? 0;
    this.loadSubscriptions();
  }

  /** The active subscriptions as the file has them (at start, and after a relay batch rolled back). */
  private loadSubscriptions(): void {
    const rows = this.db.prepare('SELECT * FROM subscriptions WHERE active = 1').all() as {
      webhook_id: string;
      url: string;
      events: string;
      secret: string;
    }[];
    this.subscriptions.clear();
    for (const r of rows) {
      this.subscriptions.set(r.webhook_id, {
        webhookId: r.webhook_id,
        url: r.url,
        events: JSON.parse(r.events) as string[],
        secret: r.secret,
      });
    }
  }

  /** Relays and sends until `stop`; woken by this process's commits, and every `pollMs` for other writers. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.unlisten = this.store.onCommitted((events) => {
      const prefixes = this.prefixes();
      for (const event of events) {
        if (prefixes.some((p) => event.streamId.startsWith(p))) return this.relayWaker.wake();
      }
    });
    this.loops = [this.relayLoop(), this.sendLoop()];
  }

  async stop(): Promise<void> {
    this.running = false;
    this.unlisten?.();
    this.relayWaker.wake();
    this.sendWaker.wake();
    await Promise.all(this.loops);
    this.loops = [];
  }

  close(): void {
    this.db.close();
  }

  private prefixes(): readonly string[] {
    return this.subscriptions.size > 0 ? WIDE : NARROW;
  }

  private async relayLoop(): Promise<void> {
    while (this.running) {
      let full = false;
      try {
        full = (await this.relayOnce()) === BATCH;
      } catch (error) {
        this.logger.error({ err: error }, 'webhook relay failed; retrying');
      }
      if (!full) await this.relayWaker.wait(this.settings.pollMs);
    }
  }

  private async sendLoop(): Promise<void> {
    while (this.running) {
      let sent = 0;
      try {
        sent = await this.deliverDue();
      } catch (error) {
        this.logger.error({ err: error }, 'webhook sender failed; retrying');
      }
      if (sent > 0) continue;
      const next = this.statements.nextDue.get()?.next;
      const untilNext = next === null || next === undefined ? this.settings.pollMs : next - this.clock.now().getTime();
      await this.sendWaker.wait(Math.min(this.settings.pollMs, untilNext));
    }
  }

  /**
   * Reads the next events of the log and records the deliveries they make, with the checkpoint, in one
   * transaction. Returns how many events it read. A batch stops after an event that changes which
   * streams are read (the first webhook created, the last deleted): the next read goes on from it.
   */
  async relayOnce(): Promise<number> {
    const prefixes = this.prefixes();
    const head = await this.store.headPosition();
    const events = await this.store.readAll(this.position, BATCH, prefixes);
    let last = this.position;
    let woke = false;
    const relay = this.db.transaction(() => {
      let switched = false;
      for (const event of events) {
        woke = this.apply(event) || woke;
        last = event.position;
        if (this.prefixes() !== prefixes) {
          switched = true;
          break;
        }
      }
      // Nothing more of these streams up to the head: the whole log up to it is relayed.
      if (!switched && events.length < BATCH) last = Math.max(last, head);
      if (last !== this.position) this.statements.checkpoint.run(last);
    });
    try {
      relay();
    } catch (error) {
      // The batch rolled back: the subscriptions it changed in memory go back to what the file says.
      this.loadSubscriptions();
      throw error;
    }
    this.position = last;
    if (woke) this.sendWaker.wake();
    return events.length;
  }

  /** Applies one event; true when it made a delivery due. */
  private apply(event: StoredEvent): boolean {
    if (event.streamId.startsWith(WEBHOOK_PREFIX)) {
      const webhook = decodeWebhookEvent(event);
      switch (webhook.type) {
        case 'WebhookCreated': {
          const { webhookId, url, events, secret } = webhook.data;
          this.statements.subscribe.run(webhookId, url, JSON.stringify(events), secret);
          this.subscriptions.set(webhookId, { webhookId, url, events, secret });
          return false;
        }
        case 'WebhookDeleted':
          this.statements.unsubscribe.run(webhook.data.webhookId);
          this.statements.cancel.run(webhook.data.webhookId);
          this.subscriptions.delete(webhook.data.webhookId);
          return false;
        case 'WebhookRedeliveryRequested':
          return (
            this.statements.redeliver.run(this.clock.now().getTime(), webhook.data.deliveryId, webhook.data.webhookId)
              .changes > 0
          );
      }
    }
    if (!event.streamId.startsWith(INSTANCE_PREFIX)) return false;
    let made = false;
    let body: string | undefined;
    const now = this.clock.now().getTime();
    for (const subscription of this.subscriptions.values()) {
      if (!webhookWants(subscription.events, event.type)) continue;
      body ??= JSON.stringify(webhookPayload(event));
      const id = webhookMessageId(subscription.webhookId, event.id);
      const inserted = this.statements.insert.run(
        id,
        subscription.webhookId,
        event.id,
        event.type,
        event.position,
        body,
        event.metadata.traceparent ?? null,
        now,
        now,
      );
      made = inserted.changes > 0 || made;
    }
    return made;
  }

  /** Sends the deliveries due now (at most a few at once); returns how many were attempted. */
  async deliverDue(): Promise<number> {
    const due = this.statements.due.all(this.clock.now().getTime(), SENDS_AT_ONCE);
    await Promise.all(due.map((delivery) => this.attempt(delivery)));
    return due.length;
  }

  private async attempt(delivery: DeliveryRecord): Promise<void> {
    const subscription = this.subscriptions.get(delivery.webhook_id);
    if (!subscription) {
      // Its webhook was deleted (which ends its pending deliveries): nowhere to send it.
      this.statements.cancel.run(delivery.webhook_id);
      return;
    }
    const timestamp = Math.floor(this.clock.now().getTime() / 1000);
    const { status, error } = await this.tracing.span(
      'webhook delivery',
      'client',
      delivery.traceparent ?? undefined,
      { 'url.full': subscription.url, 'webhook.id': delivery.id, 'webhook.event_type': delivery.event_type },
      (traceparent) => this.post(subscription, delivery, timestamp, traceparent),
    );
    if (status !== null && status >= 200 && status < 300) {
      this.statements.delivered.run(status, this.clock.now().getTime(), delivery.id);
      return;
    }
    const attempts = delivery.attempts + 1;
    const dead = attempts >= this.settings.maxAttempts;
    const wait = Math.min(this.settings.retryMaxMs, this.settings.retryInitialMs * 2 ** (attempts - 1));
    this.statements.failed.run(
      dead ? 'dead' : 'pending',
      attempts,
      this.clock.now().getTime() + wait,
      status,
      error,
      delivery.id,
    );
    const log = { webhookId: delivery.webhook_id, deliveryId: delivery.id, attempts, status, error };
    if (dead) this.logger.warn(log, 'webhook delivery dead after its last attempt');
    else this.logger.debug(log, 'webhook delivery failed; will retry');
  }

  /** One POST; the answer's status, or why there was none. */
  private async post(
    subscription: Subscription,
    delivery: DeliveryRecord,
    timestamp: number,
    traceparent: string | undefined,
  ): Promise<{ status: number | null; error: string | null }> {
    try {
      const response = await fetch(subscription.url, {
        method: 'POST',
        headers: webhookHeaders(subscription.secret, delivery.id, timestamp, delivery.body, traceparent),
        body: delivery.body,
        redirect: 'manual',
        signal: AbortSignal.timeout(this.settings.timeoutMs),
      });
      await response.body?.cancel();
      const ok = response.status >= 200 && response.status < 300;
      return { status: response.status, error: ok ? null : `HTTP ${response.status}` };
    } catch (err) {
      return { status: null, error: describe(err) };
    }
  }

  /** A webhook's deliveries, newest first; optionally of one status. */
  list(webhookId: string, options: { status?: DeliveryStatus; limit?: number } = {}): WebhookDelivery[] {
    const limit = options.limit ?? 100;
    const rows = (
      options.status
        ? this.db
            .prepare('SELECT * FROM deliveries WHERE webhook_id = ? AND status = ? ORDER BY position DESC LIMIT ?')
            .all(webhookId, options.status, limit)
        : this.db
            .prepare('SELECT * FROM deliveries WHERE webhook_id = ? ORDER BY position DESC LIMIT ?')
            .all(webhookId, limit)
    ) as DeliveryRecord[];
    return rows.map(toDelivery);
  }

  get(webhookId: string, deliveryId: string): WebhookDelivery | undefined {
    const row = this.db
      .prepare('SELECT * FROM deliveries WHERE webhook_id = ? AND id = ?')
      .get(webhookId, deliveryId) as DeliveryRecord | undefined;
    return row && toDelivery(row);
  }

  /** Deliveries not delivered yet, by status (the backlog metric). */
  backlog(): { pending: number; dead: number } {
    const out = { pending: 0, dead: 0 };
    for (const row of this.statements.backlog.all()) out[row.status as 'pending' | 'dead'] = row.count;
    return out;
  }

  /** The log position relayed so far. */
  relayedPosition(): number {
    return this.position;
  }
}

/** The body of a delivery: the event's type, when it was recorded, and what it says. */
export function webhookPayload(event: StoredEvent): { type: string; timestamp: string; data: Record<string, unknown> } {
  const instanceId = event.streamId.slice(INSTANCE_PREFIX.length);
  return {
    type: event.type,
    timestamp: event.metadata.at,
    data: {
      instanceId,
      eventId: event.id,
      correlationId: event.metadata.correlationId,
      ...(event.data as Record<string, unknown>),
    },
  };
}

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

const toDelivery = (r: DeliveryRecord): WebhookDelivery => ({
  id: r.id,
  webhookId: r.webhook_id,
  eventId: r.event_id,
  eventType: r.event_type,
  position: r.position,
  status: r.status,
  attempts: r.attempts,
  nextAttemptAt: r.status === 'pending' ? iso(r.next_at) : null,
  lastStatus: r.last_status,
  lastError: r.last_error,
  createdAt: iso(r.created_at)!,
  deliveredAt: iso(r.delivered_at),
});

function describe(error: unknown): string {
  if (error instanceof Error) {
    const cause = (error as Error & { cause?: { code?: string } }).cause;
    return cause?.code ? `${error.message} (${cause.code})` : error.message;
  }
  return String(error);
}
