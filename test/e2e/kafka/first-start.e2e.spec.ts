import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLifeline, type RunningLifeline } from '@lifeline/testing';
import { LocalKafkaBroker, describeKafka, uniqueTopic } from '@lifeline/entity-events/testing';
import { eventually, kcatConsume, kcatPartitions, kcatProduce } from './kcat';

jest.setTimeout(180_000);

const PORT = Number(process.env.KAFKA_FIRST_START_PORT ?? 19292);

// Gated on the shared broker: if that one answers, Java and the jars are there to run a second one.
describeKafka('First start against a broker with none of the topics and auto-creation off (own broker)', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'lifeline-kafka-first-start-'));
  const broker = new LocalKafkaBroker(PORT, PORT + 1, dataDir, { autoCreateTopics: false });
  const topic = uniqueTopic('entity-events');
  const commandsTopic = uniqueTopic('order-commands');
  let lifeline: RunningLifeline | undefined;

  beforeAll(async () => {
    await broker.start();
  });

  afterAll(async () => {
    await lifeline?.stop();
    await broker.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('creates the topics it consumes and publishes with the configured partitions, then records what arrives', async () => {
    expect(kcatPartitions(broker.address).has(topic)).toBe(false);
    lifeline = await startLifeline({
      demo: false,
      env: {
        LIFELINE_ENTITY_SOURCE: 'kafka',
        KAFKA_BROKERS: broker.address,
        KAFKA_TOPICS: topic,
        KAFKA_GROUP_ID: `lifeline-first-start-${topic}`,
        KAFKA_TOPIC_PARTITIONS: '3',
      },
    });
    const partitions = kcatPartitions(broker.address);
    expect([topic, `${topic}.dlq`, 'lifeline.process-events'].map((t) => partitions.get(t))).toEqual([3, 3, 3]);

    const published = await lifeline.call('admin', 'POST', '/definitions', {
      key: 'order-seen',
      name: 'Order seen',
      relatedEntity: 'Order',
      executionOrder: 1,
      triggers: [{ on: 'created' }],
      start: 'tell',
      activities: {
        tell: {
          type: 'automatic',
          emit: { topic: commandsTopic, type: 'OrderSeen', payload: { order: 'entity.number' } },
          next: 'done',
        },
        done: { type: 'end' },
      },
    });
    expect(published.status).toBe(201);

    kcatProduce(broker.address, topic, [
      {
        key: 'Order:O-1',
        value: JSON.stringify({
          id: `${topic}-1`,
          entityType: 'Order',
          entityId: 'O-1',
          kind: 'created',
          occurredAt: '2026-11-21T10:00:00Z',
          data: { number: 'O-1' },
        }),
      },
    ]);
    const running = lifeline;
    const recorded = await eventually(
      async () => {
        const events = await running.engine.store.readStream('entity-Order-O-1');
        return events.length === 1 ? events : undefined;
      },
      60_000,
      'the envelope recorded',
    );
    expect((recorded[0].data as { envelope: { id: string } }).envelope.id).toBe(`${topic}-1`);

    // The emit topic is named by a definition, so it is created before its first message.
    const [command] = await eventually(
      () => {
        const messages = kcatConsume(broker.address, commandsTopic);
        return messages.length === 1 ? messages : undefined;
      },
      60_000,
      'the OrderSeen command',
    );
    expect(JSON.parse(command.payload as string)).toMatchObject({ type: 'OrderSeen', payload: { order: 'O-1' } });
    expect(kcatPartitions(broker.address).get(commandsTopic)).toBe(3);
    expect((await lifeline.call(null, 'GET', '/health')).body.ok).toBe(true);
  });
});
