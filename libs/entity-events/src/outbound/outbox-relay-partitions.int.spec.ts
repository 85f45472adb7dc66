import { randomUUID } from 'node:crypto';
import { PostgresEventStore, partitionOf, type PartitionLease } from '@lifeline/event-store';
import { describePostgres, dropTestSchema, uniqueTestSchema } from '@lifeline/event-store/testing';
import { InMemoryCheckpointStore } from './checkpoint-store';
import type { OutboundMessage, OutboundPublisher } from './outbound-publisher';
import { OutboxRelay } from './outbox-relay';

const COUNT = 4;

/** A publisher that refuses while `down`, as a broker that cannot be reached: the relay retries. */
class Publisher implements OutboundPublisher {
  down = false;
  attempts = 0;
  readonly published: OutboundMessage[] = [];
  async publish(messages: OutboundMessage[]): Promise<void> {
    this.attempts++;
    if (this.down) throw new Error('broker unreachable');
    this.published.push(...messages);
  }
  async close(): Promise<void> {}
}

/** The outbox relay sharing by partition on PostgreSQL: its own partitions only, from their checkpoints, fenced. */
describePostgres('OutboxRelay by partition', (url) => {
  const schema = uniqueTestSchema('relay');
  let store: PostgresEventStore;
  const relays: OutboxRelay[] = [];

  beforeAll(async () => {
    store = await PostgresEventStore.connect(url, { schema, pollIntervalMs: 20 });
  });

  afterAll(async () => {
    for (const relay of relays) await relay.stop();
    await store.close();
    await dropTestSchema(url, schema);
  });

  const relayOf = (publisher: Publisher, lost: number[][] = []) => {
    const relay = new OutboxRelay(store, publisher, new InMemoryCheckpointStore(), undefined, {
      initialRetryMs: 10,
      maxRetryMs: 20,
      batchSize: 10,
    });
    relay.sharePartitions(store, (partitions) => lost.push([...partitions]));
    relays.push(relay);
    return relay;
  };

  /** One lifecycle event (a message) for each of these records. */
  const started = async (records: string[]) => {
    for (const record of records) {
      await store.append({
        streamId: `instance-${randomUUID()}`,
        expectedRevision: 'no-stream',
        events: [
          {
            id: randomUUID(),
            type: 'InstanceStarted',
            data: { record },
            metadata: {
              correlationId: 'c',
              causationId: 'c',
              actor: 'system',
              at: '2026-12-01T10:00:00Z',
              partitionKey: record,
            },
          },
        ],
      });
    }
  };
  const records = Array.from({ length: 24 }, (_, n) => `Order:R-${n}`);
  const recordOf = (m: OutboundMessage) => (JSON.parse(m.value) as { data: { record: string } }).data.record;
  const until = async (what: string, done: () => boolean) => {
    const deadline = Date.now() + 10_000;
    while (!done()) {
      if (Date.now() > deadline) throw new Error(`${what}: not reached`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  };

  it('publishes its partitions’ messages once, hands over from the checkpoint, and a stuck publish never holds a hand-over', async () => {
    const leases = store.partitionLeases;
    const a = new Publisher();
    const relayA = relayOf(a);
    await relayA.start();
    const mine: PartitionLease[] = [];
    for (let p = 0; p < COUNT; p++) mine.push((await leases.tryAcquire(p, 'a'))!);
    await relayA.own(mine, COUNT);
    await started(records.slice(0, 12));
    await until('A published the first 12', () => a.published.length === 12);

    // The broker goes away: A's next batch retries, and A hands partitions 2 and 3 over meanwhile.
    a.down = true;
    await started(records.slice(12));
    await until('A is retrying', () => a.attempts > 3);
    const handedOver = Date.now();
    await relayA.own(mine.slice(0, 2), COUNT);
    expect(Date.now() - handedOver).toBeLessThan(2_000);
    await leases.release(2);
    await leases.release(3);
    a.down = false;

    const b = new Publisher();
    const relayB = relayOf(b);
    await relayB.start();
    const taken = [(await leases.tryAcquire(2, 'b'))!, (await leases.tryAcquire(3, 'b'))!];
    await relayB.own(taken, COUNT);
    const ofPartitions = (partitions: number[]) => records.filter((r) => partitions.includes(partitionOf(r, COUNT)));
    await until('every message published', () => a.published.length + b.published.length === 24);
    // Each message once: A's partitions by A, B's by B (the first 12 of B's partitions were A's before the move).
    const all = [...a.published, ...b.published].map((m) => m.headers.messageId);
    expect(new Set(all).size).toBe(24);
    expect(b.published.map(recordOf).sort()).toEqual(
      ofPartitions([2, 3])
        .filter((r) => records.indexOf(r) >= 12)
        .sort(),
    );
    expect(
      a.published
        .slice(12)
        .map(recordOf)
        .every((r) => [0, 1].includes(partitionOf(r, COUNT))),
    ).toBe(true);
  });
});
