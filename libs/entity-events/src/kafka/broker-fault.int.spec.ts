import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, Partitioners, logLevel, type KafkaMessage } from 'kafkajs';
import { SqliteEventStore, type NewEvent } from '@lifeline/event-store';
import { SqliteCheckpointStore } from '../outbound/checkpoint-store';
import { KafkaOutboundPublisher } from '../outbound/kafka-outbound-publisher';
import { OutboxRelay } from '../outbound/outbox-relay';
import { DeadLetterCounter } from './dead-letters';
import { KafkaEntityEventSource, type EntityEventSink, type RecordedEntityEvent } from './kafka-entity-source';
import { LocalKafkaBroker, describeKafka, uniqueTopic } from './testing/broker';
import { waitFor } from './testing/wait-for';

jest.setTimeout(300_000);

const TOTAL = 2_000;
const CHUNK = 50;
const OUTAGE_MS = 10_000;
const FAULT_PORT = Number(process.env.KAFKA_FAULT_PORT ?? 19092);

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

class IdSink implements EntityEventSink {
  readonly ids = new Set<string>();
  delivered = 0;
  async record(batch: RecordedEntityEvent[]): Promise<void> {
    this.delivered += batch.length;
    for (const { envelope } of batch) this.ids.add(envelope.id);
  }
}

// Gated on the shared broker: if that one answers, Java and the jars are there to run a second one.
describeKafka('Kafka broker stop/start (own broker on its own port)', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'lifeline-kafka-fault-'));
  const broker = new LocalKafkaBroker(FAULT_PORT, FAULT_PORT + 1, dataDir);
  const brokers = [broker.address];

  beforeAll(async () => {
    await broker.start();
  });

  afterAll(async () => {
    await broker.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('loses no entity event and no outbound message across a ~10 s broker outage', async () => {
    const topic = uniqueTopic('entity-events');
    const outboundTopic = uniqueTopic('invoice-commands');
    const kafka = new Kafka({ clientId: 'fault-test', brokers, logLevel: logLevel.NOTHING, retry: { retries: 2 } });
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({
      topics: [
        { topic, numPartitions: 4 },
        { topic: outboundTopic, numPartitions: 4 },
      ],
      waitForLeaders: true,
    });
    await admin.disconnect();

    const sink = new IdSink();
    const source = new KafkaEntityEventSource(
      { brokers, topics: [topic], groupId: `group-${topic}` },
      sink,
      new DeadLetterCounter(),
    );
    await source.start();

    const storeDir = mkdtempSync(join(tmpdir(), 'lifeline-fault-store-'));
    const store = SqliteEventStore.open(join(storeDir, 'events.db'));
    const checkpoints = SqliteCheckpointStore.open(join(storeDir, 'checkpoints.db'));
    const relay = new OutboxRelay(store, new KafkaOutboundPublisher({ brokers }), checkpoints, undefined, {
      maxRetryMs: 2_000,
    });
    await relay.start();

    // Producers outside Lifeline retry on their own; a resent chunk is a duplicate, which is allowed.
    const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    let produced = 0;
    let lastPosition = 0;
    const produceAll = async () => {
      for (let from = 0; from < TOTAL; from += CHUNK) {
        const messages = Array.from({ length: CHUNK }, (_, i) => {
          const n = from + i;
          const entityId = `INV-${n % 37}`;
          const envelope = {
            id: `evt-${n}`,
            entityType: 'Invoice',
            entityId,
            kind: 'updated',
            occurredAt: '2026-11-21T10:00:00Z',
            data: { n },
          };
          return { key: `Invoice:${entityId}`, value: JSON.stringify(envelope) };
        });
        const events: NewEvent[] = messages.map((_, i) => ({
          id: `emitted-${from + i}`,
          type: 'MessageEmitted',
          data: {
            activityId: 'notify',
            topic: outboundTopic,
            messageType: 'Notify',
            key: 'k',
            payload: { n: from + i },
          },
          metadata: { correlationId: 'c', causationId: 'k', actor: 'system', at: '2026-11-21T10:00:00.000Z' },
        }));
        lastPosition = (await store.append({ streamId: `instance-i-${from % 7}`, events, expectedRevision: 'any' }))
          .position;
        for (;;) {
          try {
            await producer.connect();
            await producer.send({ topic, messages, acks: -1 });
            break;
          } catch {
            await pause(500);
          }
        }
        produced += CHUNK;
        await pause(20);
      }
    };

    await producer.connect();
    const producing = produceAll();
    await waitFor(
      () => produced >= TOTAL / 4 && sink.ids.size > 0,
      60_000,
      'a quarter produced and consumption under way',
    );
    const recordedBeforeOutage = sink.ids.size;
    await broker.stop();
    await pause(OUTAGE_MS);
    await broker.start();
    await producing;
    expect(recordedBeforeOutage).toBeLessThan(TOTAL);
    await producer.disconnect().catch(() => undefined);

    await waitFor(() => sink.ids.size >= TOTAL, 120_000, `all ${TOTAL} envelope ids recorded`);
    expect([...sink.ids].sort()).toEqual(Array.from({ length: TOTAL }, (_, n) => `evt-${n}`).sort());
    expect(sink.delivered).toBeGreaterThanOrEqual(TOTAL);

    expect(await relay.caughtUpTo(lastPosition, 120_000)).toBe(true);
    await relay.stop();
    await source.stop();

    const reader = kafka.consumer({ groupId: uniqueTopic('reader') });
    const outbound = new Set<string>();
    await reader.connect();
    await reader.subscribe({ topic: outboundTopic, fromBeginning: true });
    await reader.run({
      eachMessage: async ({ message }: { message: KafkaMessage }) =>
        void outbound.add(message.headers!.messageId!.toString()),
    });
    await waitFor(() => outbound.size >= TOTAL, 60_000, `all ${TOTAL} outbound messages`);
    await reader.disconnect();
    expect([...outbound].sort()).toEqual(Array.from({ length: TOTAL }, (_, n) => `emitted-${n}`).sort());

    await store.close();
    checkpoints.close();
    rmSync(storeDir, { recursive: true, force: true });
  });
});
