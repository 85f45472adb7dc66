import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel, type KafkaMessage } from 'kafkajs';
import { SqliteEventStore, type NewEvent } from '@lifeline/event-store';
import { describeKafka, kafkaBrokers, uniqueTopic } from '../kafka/testing/broker';
import { waitFor } from '../kafka/testing/wait-for';
import { SqliteCheckpointStore } from './checkpoint-store';
import { KafkaOutboundPublisher } from './kafka-outbound-publisher';
import { OutboxRelay } from './outbox-relay';

jest.setTimeout(60_000);

const brokers = kafkaBrokers();

/** Reads a topic from the beginning until `count` messages arrived (a plain kafkajs consumer, as a subscriber would). */
async function consume(topic: string, count: number): Promise<KafkaMessage[]> {
  const consumer = new Kafka({ clientId: 'outbound-reader', brokers, logLevel: logLevel.NOTHING }).consumer({
    groupId: uniqueTopic('reader'),
  });
  const messages: KafkaMessage[] = [];
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({ eachMessage: async ({ message }) => void messages.push(message) });
  try {
    await waitFor(() => messages.length >= count, 30_000, `${count} messages on ${topic}`);
  } finally {
    await consumer.disconnect();
  }
  return messages;
}

describeKafka('KafkaOutboundPublisher (real broker)', () => {
  it('delivers messages in order with their headers', async () => {
    const topic = uniqueTopic('invoice-commands');
    const publisher = new KafkaOutboundPublisher({ brokers });
    const headers = {
      messageId: 'm-1',
      correlationId: 'c-1',
      causationId: 'k-1',
      actor: 'system',
      eventType: 'MessageEmitted',
    };
    await publisher.publish(
      Array.from({ length: 5 }, (_, i) => ({
        topic,
        key: 'i-1',
        value: JSON.stringify({ n: i }),
        headers: { ...headers, messageId: `m-${i}` },
      })),
    );
    await publisher.close();

    const messages = await consume(topic, 5);
    expect(messages.map((m) => JSON.parse(m.value!.toString()).n)).toEqual([0, 1, 2, 3, 4]);
    expect(messages.every((m) => m.key?.toString() === 'i-1')).toBe(true);
    const first = messages[0].headers!;
    expect(Object.fromEntries(Object.entries(first).map(([k, v]) => [k, v!.toString()]))).toEqual({
      ...headers,
      messageId: 'm-0',
    });
  });

  describe('with the outbox relay', () => {
    let dir: string;
    let store: SqliteEventStore;

    beforeEach(() => {
      dir = mkdtempSync(join(tmpdir(), 'lifeline-outbox-'));
      store = SqliteEventStore.open(join(dir, 'events.db'));
    });
    afterEach(async () => {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    });

    it('resumes from its checkpoint after stop/start without losing or repeating messages', async () => {
      const topic = uniqueTopic('invoice-commands');
      const emit = (instanceId: string, n: number): NewEvent => ({
        id: `${instanceId}-emitted-${n}`,
        type: 'MessageEmitted',
        data: { activityId: 'notify', topic, messageType: 'NotifyOwner', key: instanceId, payload: { n } },
        metadata: { correlationId: 'corr', causationId: 'cause', actor: 'system', at: '2026-11-21T10:00:00.000Z' },
      });
      const appendBatch = async (from: number) => {
        let last = 0;
        for (let n = from; n < from + 10; n += 1) {
          const { position } = await store.append({
            streamId: `instance-i-${n % 3}`,
            events: [emit(`i-${n % 3}`, n)],
            expectedRevision: 'any',
          });
          last = position;
        }
        return last;
      };

      const publisher = new KafkaOutboundPublisher({ brokers });
      const checkpointFile = join(dir, 'checkpoints.db');
      const firstCheckpoints = SqliteCheckpointStore.open(checkpointFile);
      const first = new OutboxRelay(store, publisher, firstCheckpoints);
      await first.start();
      expect(await first.caughtUpTo(await appendBatch(0), 20_000)).toBe(true);
      await first.stop();
      firstCheckpoints.close();

      const lastPosition = await appendBatch(10);
      const secondCheckpoints = SqliteCheckpointStore.open(checkpointFile);
      const second = new OutboxRelay(store, publisher, secondCheckpoints);
      await second.start();
      expect(await second.caughtUpTo(lastPosition, 20_000)).toBe(true);
      await second.stop();
      secondCheckpoints.close();
      await publisher.close();

      const messages = await consume(topic, 20);
      const ns = messages.map((m) => JSON.parse(m.value!.toString()).payload.n as number);
      expect([...ns].sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i));
      for (const key of ['i-0', 'i-1', 'i-2']) {
        const perKey = messages
          .filter((m) => m.key?.toString() === key)
          .map((m) => JSON.parse(m.value!.toString()).payload.n as number);
        expect(perKey).toEqual([...perKey].sort((a, b) => a - b));
      }
    });
  });
});
