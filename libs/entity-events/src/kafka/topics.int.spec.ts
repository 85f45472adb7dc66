import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Kafka, Partitioners, logLevel, type Admin } from 'kafkajs';
import type { EntityEventsLogger } from '../logger';
import { KafkaOutboundPublisher } from '../outbound/kafka-outbound-publisher';
import { DeadLetterCounter } from './dead-letters';
import { KafkaEntityEventSource, type RecordedEntityEvent } from './kafka-entity-source';
import { KafkaTopicsMissing, KafkaTopicsUnavailable, ensureKafkaTopics } from './topics';
import { LocalKafkaBroker, createTopics, describeKafka, uniqueTopic } from './testing/broker';
import { waitFor } from './testing/wait-for';

jest.setTimeout(180_000);

const PORT = Number(process.env.KAFKA_NO_AUTO_CREATE_PORT ?? 19192);

class CapturingLogger implements EntityEventsLogger {
  readonly lines: { level: string; obj: Record<string, unknown>; msg: string }[] = [];
  info = (obj: Record<string, unknown>, msg: string) => void this.lines.push({ level: 'info', obj, msg });
  warn = (obj: Record<string, unknown>, msg: string) => void this.lines.push({ level: 'warn', obj, msg });
  error = (obj: Record<string, unknown>, msg: string) => void this.lines.push({ level: 'error', obj, msg });
}

// Gated on the shared broker: if that one answers, Java and the jars are there to run a second one.
describeKafka('Kafka topics on a broker that does not auto-create them (own broker on its own port)', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'lifeline-kafka-no-auto-create-'));
  const broker = new LocalKafkaBroker(PORT, PORT + 1, dataDir, { autoCreateTopics: false });
  const brokers = [broker.address];
  const client = (clientId: string) => new Kafka({ clientId, brokers, logLevel: logLevel.NOTHING });
  let admin: Admin;

  const partitionsOf = async (topic: string): Promise<number> => {
    const { topics } = await admin.fetchTopicMetadata({ topics: [topic] });
    return topics[0].partitions.length;
  };

  beforeAll(async () => {
    await broker.start();
    admin = client('topics-test').admin();
    await admin.connect();
  });

  afterAll(async () => {
    await admin?.disconnect();
    await broker.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('is a broker that refuses to create a topic on first use (what the other tests rely on)', async () => {
    const topic = uniqueTopic('nobody-made-me');
    const producer = client('auto-create-probe').producer({
      allowAutoTopicCreation: true,
      createPartitioner: Partitioners.DefaultPartitioner,
      retry: { retries: 1 },
    });
    await producer.connect();
    await expect(producer.send({ topic, messages: [{ value: 'x' }] })).rejects.toThrow();
    await producer.disconnect();
    expect(await admin.listTopics()).not.toContain(topic);
  });

  it('creates missing topics with the configured partitions, and leaves existing ones as they are', async () => {
    const [fresh, existing] = [uniqueTopic('fresh'), uniqueTopic('existing')];
    await createTopics(admin, [{ topic: existing, numPartitions: 2 }]);
    const logger = new CapturingLogger();

    await ensureKafkaTopics(client('ensure'), [fresh, existing], { settings: { partitions: 5 }, logger });

    expect(await partitionsOf(fresh)).toBe(5);
    expect(await partitionsOf(existing)).toBe(2);
    expect(logger.lines.find((l) => l.msg === 'kafka topics created')?.obj).toEqual({
      topics: [fresh],
      partitions: 5,
      replicationFactor: -1,
    });
    await ensureKafkaTopics(client('ensure-again'), [fresh, existing], { settings: { partitions: 7 } });
    expect(await partitionsOf(fresh)).toBe(5);
  });

  it('lets two engines starting at once both create the same topics', async () => {
    const topics = [uniqueTopic('race'), uniqueTopic('race')];
    const logger = new CapturingLogger();
    await Promise.all(
      ['engine-a', 'engine-b', 'engine-c'].map((name) =>
        ensureKafkaTopics(client(name), topics, { settings: { partitions: 3 }, logger }),
      ),
    );
    for (const topic of topics) expect(await partitionsOf(topic)).toBe(3);
    expect(logger.lines.filter((l) => l.msg === 'kafka topics created')).toHaveLength(1);
  });

  it('waits, saying so, for topics it may not create, and goes on once someone else made them', async () => {
    const topic = uniqueTopic('managed-elsewhere');
    const logger = new CapturingLogger();
    let done = false;
    const ensuring = ensureKafkaTopics(client('waiting'), [topic], {
      settings: { create: false, waitPollMs: 100 },
      logger,
    }).then(() => (done = true));

    await waitFor(() => logger.lines.some((l) => l.level === 'warn'), 10_000, 'the waiting log line');
    expect(logger.lines.find((l) => l.level === 'warn')).toEqual({
      level: 'warn',
      obj: { topics: [topic], reason: 'topic creation is turned off' },
      msg: 'kafka topics missing; waiting for them to be created',
    });
    expect(done).toBe(false);
    await createTopics(admin, [{ topic, numPartitions: 1 }]);
    await ensuring;
    expect(done).toBe(true);
  });

  it('tells a caller that does not wait which topics are missing', async () => {
    const topic = uniqueTopic('missing');
    const attempt = ensureKafkaTopics(client('no-wait'), [topic], { settings: { create: false }, wait: false });
    await expect(attempt).rejects.toBeInstanceOf(KafkaTopicsMissing);
    await expect(attempt).rejects.toMatchObject({ code: 'KAFKA.TOPICS_MISSING', topics: [topic] });
  });

  it('fails with a clear error when the broker cannot make the topics as configured', async () => {
    const topic = uniqueTopic('three-replicas');
    const attempt = ensureKafkaTopics(client('too-many-replicas'), [topic], { settings: { replicationFactor: 3 } });
    await expect(attempt).rejects.toBeInstanceOf(KafkaTopicsUnavailable);
    await expect(attempt).rejects.toThrow(/INVALID_REPLICATION_FACTOR/);
  });

  it('starts the entity source on a topic that does not exist yet, and records and dead-letters what follows', async () => {
    const topic = uniqueTopic('entity-events');
    const recorded: RecordedEntityEvent[] = [];
    const deadLetters = new DeadLetterCounter();
    const source = new KafkaEntityEventSource(
      { brokers, topics: [topic], groupId: `group-${topic}`, topicSettings: { partitions: 4 } },
      { record: async (batch) => void recorded.push(...batch) },
      deadLetters,
    );
    await source.start();
    try {
      expect(await partitionsOf(topic)).toBe(4);
      expect(await partitionsOf(`${topic}.dlq`)).toBe(4);
      const producer = client('entity-producer').producer({ createPartitioner: Partitioners.DefaultPartitioner });
      await producer.connect();
      const envelope = {
        id: `${topic}-1`,
        entityType: 'Invoice',
        entityId: 'INV-1',
        kind: 'created',
        occurredAt: '2026-11-21T10:00:00Z',
        data: { amount: 5 },
      };
      await producer.send({
        topic,
        messages: [
          { key: 'Invoice:INV-1', value: JSON.stringify(envelope) },
          { key: 'Invoice:INV-1', value: 'not json' },
        ],
      });
      await producer.disconnect();
      await waitFor(() => recorded.length === 1 && deadLetters.total() === 1, 30_000, 'recorded and dead-lettered');
      expect(recorded[0].envelope.id).toBe(envelope.id);
    } finally {
      await source.stop();
    }
  });

  it('creates an outbound topic before its first message', async () => {
    const topic = uniqueTopic('invoice-commands');
    const publisher = new KafkaOutboundPublisher({ brokers, topicSettings: { partitions: 6 }, compression: 'lz4' });
    try {
      await publisher.publish([{ topic, key: 'i-1', value: '{"n":1}', headers: { messageId: 'm-1' } }]);
    } finally {
      await publisher.close();
    }
    expect(await partitionsOf(topic)).toBe(6);
    const offsets = await admin.fetchTopicOffsets(topic);
    expect(offsets.reduce((sum, p) => sum + Number(p.high), 0)).toBe(1);
  });
});
