import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteEventStore, type NewEvent } from '@lifeline/event-store';
import { SqliteCheckpointStore } from './checkpoint-store';
import { OutboxRelay } from './outbox-relay';
import { InProcessOutboundPublisher, type OutboundMessage, type OutboundPublisher } from './outbound-publisher';
import { PROCESS_EVENTS_TOPIC } from './to-outbound-messages';
import { waitFor } from '../kafka/testing/wait-for';

const meta = { correlationId: 'corr', causationId: 'cause', actor: 'system', at: '2026-11-21T10:00:00.000Z' };

function instanceEvents(instanceId: string): NewEvent[] {
  return [
    { id: `${instanceId}-started`, type: 'InstanceStarted', data: { instanceId }, metadata: meta },
    { id: `${instanceId}-entered`, type: 'ActivityEntered', data: { activityId: 'review' }, metadata: meta },
    {
      id: `${instanceId}-emitted`,
      type: 'MessageEmitted',
      data: {
        activityId: 'escalate',
        topic: 'invoice-commands',
        messageType: 'EscalateInvoice',
        key: 'INV-7',
        payload: { n: 1 },
      },
      metadata: meta,
    },
    { id: `${instanceId}-completed`, type: 'InstanceCompleted', data: {}, metadata: meta },
  ];
}

/** The outbound port failing a given number of times before it delivers (a broker that is down). */
class UnreliablePublisher implements OutboundPublisher {
  attempts = 0;
  constructor(
    private readonly inner: InProcessOutboundPublisher,
    private failuresLeft: number,
  ) {}
  async publish(messages: OutboundMessage[]): Promise<void> {
    this.attempts += 1;
    if (this.failuresLeft > 0) {
      this.failuresLeft -= 1;
      throw new Error('broker unavailable');
    }
    await this.inner.publish(messages);
  }
  async close(): Promise<void> {}
}

describe('OutboxRelay over the SQLite event store', () => {
  let dir: string;
  let store: SqliteEventStore;
  let checkpoints: SqliteCheckpointStore;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'lifeline-relay-'));
    store = SqliteEventStore.open(join(dir, 'events.db'));
    checkpoints = SqliteCheckpointStore.open(join(dir, 'checkpoints.db'));
  });

  afterEach(async () => {
    await store.close();
    checkpoints.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const append = (instanceId: string) =>
    store.append({
      streamId: `instance-${instanceId}`,
      events: instanceEvents(instanceId),
      expectedRevision: 'no-stream',
    });

  it('publishes instance events in store order and skips other streams', async () => {
    const publisher = new InProcessOutboundPublisher();
    await store.append({
      streamId: 'definition-invoice-approval',
      events: [{ id: 'd-1', type: 'DefinitionActivated', data: { key: 'invoice-approval' }, metadata: meta }],
      expectedRevision: 'any',
    });
    await append('i-1');
    const { position } = await append('i-2');
    const relay = new OutboxRelay(store, publisher, checkpoints);
    await relay.start();

    expect(await relay.caughtUpTo(position)).toBe(true);
    await relay.stop();

    expect(publisher.messages().map((m) => `${m.key}:${m.headers.eventType}`)).toEqual([
      'i-1:InstanceStarted',
      'i-1:MessageEmitted',
      'i-1:InstanceCompleted',
      'i-2:InstanceStarted',
      'i-2:MessageEmitted',
      'i-2:InstanceCompleted',
    ]);
    expect(publisher.messages('invoice-commands')).toHaveLength(2);
    expect(publisher.messages(PROCESS_EVENTS_TOPIC)).toHaveLength(4);
    expect(await checkpoints.get('outbox-relay')).toBe(position);
  });

  it('retries a failing publish with backoff and never skips the batch', async () => {
    const delivered = new InProcessOutboundPublisher();
    const publisher = new UnreliablePublisher(delivered, 3);
    const waits: number[] = [];
    const relay = new OutboxRelay(store, publisher, checkpoints, undefined, {
      initialRetryMs: 100,
      maxRetryMs: 300,
      sleep: async (ms) => void waits.push(ms),
    });
    const { position } = await append('i-1');
    await relay.start();

    expect(await relay.caughtUpTo(position)).toBe(true);
    await relay.stop();

    expect(waits).toEqual([100, 200, 300]);
    expect(publisher.attempts).toBe(4);
    expect(delivered.messages().map((m) => m.headers.messageId)).toEqual([
      'i-1-started',
      'i-1-emitted',
      'i-1-completed',
    ]);
  });

  it('resumes from its checkpoint after a restart, without losing or repeating messages', async () => {
    const publisher = new InProcessOutboundPublisher();
    const first = new OutboxRelay(store, publisher, checkpoints);
    await first.start();
    const one = await append('i-1');
    expect(await first.caughtUpTo(one.position)).toBe(true);
    await first.stop();

    await append('i-2');
    const three = await append('i-3');
    const reopened = SqliteCheckpointStore.open(join(dir, 'checkpoints.db'));
    const second = new OutboxRelay(store, publisher, reopened);
    await second.start();
    expect(await second.caughtUpTo(three.position)).toBe(true);
    await second.stop();
    reopened.close();

    const ids = publisher.messages().map((m) => m.headers.messageId);
    expect(ids).toHaveLength(9);
    expect(new Set(ids).size).toBe(9);
    expect(ids.filter((id) => id.endsWith('-started'))).toEqual(['i-1-started', 'i-2-started', 'i-3-started']);
  });

  it('stops while a publish keeps failing, and the next start publishes that batch', async () => {
    const delivered = new InProcessOutboundPublisher();
    const down = new UnreliablePublisher(delivered, Number.MAX_SAFE_INTEGER);
    const relay = new OutboxRelay(store, down, checkpoints, undefined, { sleep: () => new Promise(() => undefined) });
    const { position } = await append('i-1');
    await relay.start();
    await waitFor(() => down.attempts >= 1, 5_000, 'a publish attempt');
    await relay.stop();
    expect(await checkpoints.get('outbox-relay')).toBe(0);

    const next = new OutboxRelay(store, delivered, checkpoints);
    await next.start();
    expect(await next.caughtUpTo(position)).toBe(true);
    await next.stop();
    expect(delivered.messages()).toHaveLength(3);
  });
});
