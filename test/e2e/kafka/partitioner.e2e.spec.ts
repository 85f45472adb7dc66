import { Kafka, logLevel } from 'kafkajs';
import { partitionOf } from '@lifeline/event-store';
import { describeKafka, kafkaBrokers, uniqueTopic } from '@lifeline/entity-events/testing';
import { kcatConsume, kcatProduce } from './kcat';

/**
 * A record's partition (ownership by partition, docs/decisions/0013) must be the one a plain Kafka producer puts
 * its key in: librdkafka's murmur2_random is the Java client's default partitioner, which kafkajs follows too.
 */
describeKafka('Record partitions are Kafka’s: keys produced by kcat land where Lifeline expects them', () => {
  const broker = kafkaBrokers()[0]!;
  const topic = uniqueTopic('partitioner');
  const kafka = new Kafka({ brokers: kafkaBrokers(), logLevel: logLevel.NOTHING });

  beforeAll(async () => {
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 12 }], waitForLeaders: true });
    await admin.disconnect();
  });

  afterAll(async () => {
    const admin = kafka.admin();
    await admin.connect();
    await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
    await admin.disconnect();
  });

  it('every key is on partitionOf(key, 12), non-ASCII keys and every tail length included', () => {
    const keys = ['Kunde:Ü-1', 'Ticket:日本-42', 'A:1', 'A:12', 'A:123', 'A:1234'];
    for (let n = 0; n < 300; n++) keys.push(`Invoice:INV-${n}`);
    kcatProduce(
      broker,
      topic,
      keys.map((key) => ({ key, value: '{}' })),
      { partitioner: 'murmur2_random' },
    );
    const landed = kcatConsume(broker, topic).map((m) => [m.key, m.partition]);
    expect(landed).toHaveLength(keys.length);
    expect(new Set(landed.map(([, p]) => p)).size).toBe(12);
    for (const [key, partition] of landed) expect([key, partition]).toEqual([key, partitionOf(key as string, 12)]);
  });
});
