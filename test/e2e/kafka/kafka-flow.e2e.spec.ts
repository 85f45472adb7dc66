import { Kafka, logLevel } from 'kafkajs';
import { startLifeline, type RunningLifeline } from '@lifeline/testing';
import { describeKafka, kafkaBrokers, uniqueTopic } from '@lifeline/entity-events/testing';
import { eventually, kcatConsume, kcatProduce } from './kcat';

jest.setTimeout(120_000);

describeKafka('Lifeline on a real Kafka broker, driven and read with kcat', () => {
  const broker = kafkaBrokers()[0];
  const topic = uniqueTopic('entity-events');
  const commandsTopic = uniqueTopic('order-commands');
  let lifeline: RunningLifeline;
  const startedAt = Date.now() - 60_000;

  beforeAll(async () => {
    const admin = new Kafka({ brokers: kafkaBrokers(), logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 4 }], waitForLeaders: true });
    await admin.disconnect();
    lifeline = await startLifeline({
      env: {
        LIFELINE_ENTITY_SOURCE: 'kafka',
        LIFELINE_OUTBOUND: 'kafka',
        KAFKA_BROKERS: kafkaBrokers().join(','),
        KAFKA_TOPICS: topic,
        KAFKA_GROUP_ID: `lifeline-e2e-${topic}`,
      },
    });
    const published = await lifeline.call('admin', 'POST', '/definitions', {
      key: 'order-fulfilment',
      name: 'Order fulfilment',
      relatedEntity: 'Order',
      executionOrder: 1,
      triggers: [{ on: 'created' }],
      start: 'pack',
      activities: {
        pack: {
          type: 'human',
          title: 'Pack the order',
          assignee: { role: 'sales' },
          results: ['Packed'],
          next: 'ship',
        },
        ship: {
          type: 'automatic',
          emit: { topic: commandsTopic, type: 'ShipOrder', payload: { order: 'entity.number' } },
          next: 'done',
        },
        done: { type: 'end' },
      },
    });
    expect(published.status).toBe(201);
  });

  afterAll(async () => {
    await lifeline?.stop();
  });

  it('consumes envelopes produced by kcat, dead-letters what is not an envelope, and publishes plain messages kcat reads', async () => {
    const envelope = (n: number) => ({
      id: `${topic}-o-${n}`,
      entityType: 'Order',
      entityId: `O-${n}`,
      kind: 'created',
      occurredAt: '2026-11-21T10:00:00Z',
      data: { number: `O-${n}`, total: 10 * n },
    });
    kcatProduce(broker, topic, [
      { key: 'Order:O-1', value: JSON.stringify(envelope(1)) },
      { key: 'Order:O-2', value: '{ this is not json' },
      { key: 'Order:O-3', value: JSON.stringify({ ...envelope(3), kind: 'exploded' }) },
      { key: 'Order:O-4', value: JSON.stringify(envelope(4)) },
    ]);
    const sales = lifeline.token('sam', ['sales']);
    const tasks = await eventually(
      async () => {
        const list = await lifeline.call(sales, 'GET', '/tasks');
        return list.body.items?.length === 2
          ? (list.body.items as { id: string; entity: { id: string }; instanceId: string }[])
          : undefined;
      },
      60_000,
      'two tasks from the two valid envelopes',
    );
    expect(tasks.map((t) => t.entity.id).sort()).toEqual(['O-1', 'O-4']);

    const history = await lifeline.call('admin', 'GET', `/instances/${tasks[0].instanceId}/history`);
    expect(history.status).toBe(200);
    const recorded = await lifeline.engine.store.readStream(`entity-Order-${tasks[0].entity.id}`);
    expect(
      (recorded[0].data as { source: { kind: string; topic: string; partition: number; offset: string } }).source,
    ).toMatchObject({ kind: 'kafka', topic });

    const dead = await eventually(
      () => {
        const messages = kcatConsume(broker, `${topic}.dlq`);
        return messages.length === 2 ? messages : undefined;
      },
      30_000,
      'two dead letters',
    );
    const reasons = dead.map((m) => m.headers['lifeline-dlq-reason']).sort();
    expect(reasons).toEqual(['ENTITY_EVENT.INVALID', 'ENTITY_EVENT.NOT_JSON']);
    expect(dead.every((m) => m.headers['lifeline-original-topic'] === topic)).toBe(true);
    const metrics = await lifeline.call(null, 'GET', '/metrics');
    expect(metrics.body).toContain('lifeline_dead_letters_total 2');

    const done = await lifeline.call(sales, 'POST', `/tasks/${tasks[0].id}/complete`, { result: 'Packed' });
    expect(done.status).toBe(200);
    const shipped = await eventually(
      () => {
        const messages = kcatConsume(broker, commandsTopic);
        return messages.length >= 1 ? messages : undefined;
      },
      30_000,
      'the ShipOrder command',
    );
    expect(shipped[0].key).toBe(tasks[0].instanceId);
    expect(JSON.parse(shipped[0].payload as string)).toMatchObject({
      type: 'ShipOrder',
      payload: { order: tasks[0].entity.id },
      instanceId: tasks[0].instanceId,
    });
    expect(shipped[0].headers.messageId).toMatch(/^[0-9a-f-]{36}$/);
    expect(shipped[0].headers.correlationId).toBeTruthy();

    const lifecycle = await eventually(
      () => {
        const mine = kcatConsume(broker, 'lifeline.process-events', startedAt).filter(
          (m) => m.key === tasks[0].instanceId,
        );
        return mine.some((m) => m.headers.eventType === 'InstanceCompleted') ? mine : undefined;
      },
      30_000,
      'the lifecycle events of the completed instance',
    );
    expect(lifecycle.map((m) => m.headers.eventType)).toEqual([
      'InstanceStarted',
      'TaskCreated',
      'TaskClaimed',
      'TaskCompleted',
      'InstanceCompleted',
    ]);
  });
});
