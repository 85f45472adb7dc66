import { KafkaOutboundPublisher, replaceKafkaCodec } from '@lifeline/entity-events';
import { startLifeline, type RunningLifeline } from '@lifeline/testing';
import { describeKafka, kafkaBrokers, uniqueTopic } from '@lifeline/entity-events/testing';
import { eventually, kcatConsume, kcatProduce } from './kcat';

jest.setTimeout(120_000);

describeKafka('Entity events compressed by a plain producer (kcat -z), on a real broker', () => {
  const broker = kafkaBrokers()[0];
  const topic = uniqueTopic('entity-events');
  const stuckTopic = uniqueTopic('entity-events-stuck');
  let lifeline: RunningLifeline;

  const metric = async (name: string): Promise<number | undefined> => {
    const text = (await lifeline.call(null, 'GET', '/metrics')).body as string;
    const line = text.split('\n').find((l) => l.startsWith(`${name} `));
    return line === undefined ? undefined : Number(line.slice(name.length + 1));
  };
  const recorded = async (entityId: string) =>
    (await lifeline.engine.store.readStream(`entity-Order-${entityId}`)).map(
      (e) => (e.data as { envelope: { id: string } }).envelope.id,
    );
  const envelope = (id: string, entityId: string, kind = 'created') =>
    JSON.stringify({
      id,
      entityType: 'Order',
      entityId,
      kind,
      occurredAt: '2026-11-21T10:00:00Z',
      data: { number: entityId, lines: Array.from({ length: 5 }, (_, i) => ({ sku: `SKU-${i}`, quantity: 1 })) },
    });

  beforeAll(async () => {
    lifeline = await startLifeline({
      demo: false,
      env: {
        LIFELINE_ENTITY_SOURCE: 'kafka',
        LIFELINE_OUTBOUND: 'in-process',
        KAFKA_BROKERS: kafkaBrokers().join(','),
        KAFKA_TOPICS: `${topic},${stuckTopic}`,
        KAFKA_GROUP_ID: `lifeline-e2e-${topic}`,
        KAFKA_TOPIC_PARTITIONS: '2',
      },
    });
  });

  afterAll(async () => {
    await lifeline?.stop();
  });

  it.each(['gzip', 'snappy', 'lz4', 'zstd'])(
    'records the envelopes of a %s batch and dead-letters the invalid one',
    async (codec) => {
      const decompressed = `lifeline_kafka_decompressed_batches_total{codec="${codec}"}`;
      const batchesBefore = (await metric(decompressed)) ?? 0;
      const ids = Array.from({ length: 6 }, (_, n) => ({ id: `${topic}-${codec}-${n}`, entityId: `${codec}-O-${n}` }));
      kcatProduce(
        broker,
        topic,
        ids.map(({ id, entityId }, n) => ({
          key: `Order:${entityId}`,
          value: envelope(id, entityId, n === 3 ? 'exploded' : 'created'),
        })),
        { compression: codec },
      );

      const valid = ids.filter((_, n) => n !== 3);
      await eventually(
        async () =>
          (await Promise.all(valid.map((v) => recorded(v.entityId)))).every((r) => r.length === 1) ? true : undefined,
        60_000,
        `the five valid ${codec} envelopes recorded`,
      );
      for (const { id, entityId } of valid) expect(await recorded(entityId)).toEqual([id]);
      expect(await recorded(ids[3].entityId)).toEqual([]);

      const dead = await eventually(
        () => kcatConsume(broker, `${topic}.dlq`).find((m) => m.key === `Order:${ids[3].entityId}`),
        30_000,
        `the invalid ${codec} envelope dead-lettered`,
      );
      expect(dead.headers['lifeline-dlq-reason']).toBe('ENTITY_EVENT.INVALID');
      expect(JSON.parse(dead.payload as string).id).toBe(ids[3].id);
      // It really came compressed: this process decompressed a batch with that codec.
      expect(await metric(decompressed)).toBeGreaterThan(batchesBefore);
    },
  );

  it.each(['gzip', 'snappy', 'lz4'] as const)(
    'publishes %s batches (KAFKA_COMPRESSION) that kcat reads',
    async (codec) => {
      const commands = uniqueTopic(`commands-${codec}`);
      const publisher = new KafkaOutboundPublisher({ brokers: kafkaBrokers(), compression: codec });
      const values = Array.from({ length: 20 }, (_, n) =>
        JSON.stringify({ type: 'ShipOrder', n, note: 'z'.repeat(100) }),
      );
      try {
        await publisher.publish(
          values.map((value, n) => ({ topic: commands, key: 'i-1', value, headers: { messageId: `m-${n}` } })),
        );
      } finally {
        await publisher.close();
      }
      const read = await eventually(
        () => {
          const messages = kcatConsume(broker, commands);
          return messages.length === values.length ? messages : undefined;
        },
        30_000,
        `the ${codec} messages`,
      );
      expect(read.map((m) => m.payload)).toEqual(values);
      expect(read.map((m) => m.headers.messageId)).toEqual(values.map((_, n) => `m-${n}`));
    },
  );

  it('reports a batch it cannot decode on /health, /health/ready and /metrics, and keeps consuming the other partitions', async () => {
    const restore = replaceKafkaCodec('zstd', undefined);
    try {
      const lines = Array.from({ length: 6 }, (_, n) => ({
        key: `Order:stuck-O-${n}`,
        value: envelope(`${stuckTopic}-${n}`, `stuck-O-${n}`),
      }));
      kcatProduce(broker, stuckTopic, lines, { compression: 'zstd', partition: 0 });
      kcatProduce(broker, stuckTopic, [{ key: 'Order:moving-O-1', value: envelope(`${stuckTopic}-m`, 'moving-O-1') }], {
        partition: 1,
      });

      const health = await eventually(
        async () => {
          const answer = await lifeline.call(null, 'GET', '/health');
          return answer.body.ok === false ? answer.body : undefined;
        },
        60_000,
        'health not ok',
      );
      expect(health.kafka).toEqual({
        ok: false,
        stuckPartitions: [
          {
            topic: stuckTopic,
            partition: 0,
            codec: 'zstd',
            error: 'No zstd codec can decompress here',
            firstOffset: '0',
            lastOffset: '5',
            since: expect.any(String),
          },
        ],
      });
      expect(health.reactions.ok).toBe(true);
      // Not ready (send no traffic), yet alive (no restart: a restart would not read the batch either).
      expect(await lifeline.call(null, 'GET', '/health/ready')).toEqual({
        status: 503,
        body: { ok: false, checks: { store: true, reactions: true, kafka: false } },
      });
      expect((await lifeline.call(null, 'GET', '/health/live')).status).toBe(200);
      expect(await metric('lifeline_kafka_undecodable_batches_total')).toBe(1);
      expect(await metric('lifeline_kafka_stuck_partitions')).toBe(1);
      await eventually(
        async () => ((await recorded('moving-O-1')).length === 1 ? true : undefined),
        30_000,
        'partition 1',
      );
      expect(await recorded('stuck-O-0')).toEqual([]);
      // Not dead-lettered either: the batch waits on its partition for a process that can read it.
      expect(kcatConsume(broker, `${stuckTopic}.dlq`)).toEqual([]);
    } finally {
      restore();
    }
  });
});
