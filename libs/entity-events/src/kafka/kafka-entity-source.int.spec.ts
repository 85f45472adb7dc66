import { CompressionTypes, Kafka, Partitioners, logLevel, type Admin, type Producer, type KafkaMessage } from 'kafkajs';
import type { EntityEventEnvelope } from '@lifeline/process-domain';
import type { EntityEventsLogger } from '../logger';
import { decompressedBatchCounts, registerKafkaCodecs, replaceKafkaCodec } from './codecs';
import { DeadLetterCounter, DeadLetterReason, DLQ_HEADERS } from './dead-letters';
import { KafkaEntityEventSource, type EntityEventSink, type RecordedEntityEvent } from './kafka-entity-source';
import { createTopics, describeKafka, kafkaBrokers, uniqueTopic } from './testing/broker';
import { waitFor } from './testing/wait-for';

jest.setTimeout(60_000);

const brokers = kafkaBrokers();

function envelope(entityId: string, seq: number, extra: Partial<EntityEventEnvelope> = {}): EntityEventEnvelope {
  return {
    id: `evt-${entityId}-${seq}`,
    entityType: 'Invoice',
    entityId,
    kind: seq === 0 ? 'created' : 'updated',
    occurredAt: new Date(Date.UTC(2026, 10, 21, 10, 0, seq)).toISOString(),
    data: { number: entityId, seq },
    ...extra,
  };
}

const asMessage = (e: EntityEventEnvelope) => ({ key: `${e.entityType}:${e.entityId}`, value: JSON.stringify(e) });

/** The sink as the engine uses it: keeps what it was given; `failures` calls throw first. */
class CollectingSink implements EntityEventSink {
  readonly recorded: RecordedEntityEvent[] = [];
  calls = 0;
  constructor(private failures = 0) {}
  async record(batch: RecordedEntityEvent[]): Promise<void> {
    this.calls += 1;
    if (this.failures > 0) {
      this.failures -= 1;
      throw new Error('the store is unavailable');
    }
    this.recorded.push(...batch);
  }
  ids(): string[] {
    return this.recorded.map((r) => r.envelope.id);
  }
}

async function readAll(topic: string, expected: number): Promise<KafkaMessage[]> {
  const kafka = new Kafka({ clientId: 'dlq-reader', brokers, logLevel: logLevel.NOTHING });
  const consumer = kafka.consumer({ groupId: uniqueTopic('dlq-reader') });
  const messages: KafkaMessage[] = [];
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({ eachMessage: async ({ message }) => void messages.push(message) });
  try {
    await waitFor(() => messages.length >= expected, 30_000, `${expected} messages on ${topic}`);
  } finally {
    await consumer.disconnect();
  }
  return messages;
}

describeKafka('KafkaEntityEventSource (real broker)', () => {
  let producer: Producer;
  let admin: Admin;
  const sources: KafkaEntityEventSource[] = [];

  const startSource = async (
    topic: string,
    sink: EntityEventSink,
    counter = new DeadLetterCounter(),
    extra = {},
    logger?: EntityEventsLogger,
  ) => {
    const source = new KafkaEntityEventSource(
      { brokers, topics: [topic], groupId: `group-${topic}`, ...extra },
      sink,
      counter,
      logger,
    );
    sources.push(source);
    await source.start();
    return source;
  };

  beforeAll(async () => {
    registerKafkaCodecs();
    const kafka = new Kafka({ clientId: 'source-test', brokers, logLevel: logLevel.NOTHING });
    producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    admin = kafka.admin();
    await Promise.all([producer.connect(), admin.connect()]);
  });

  afterEach(async () => {
    await Promise.all(sources.splice(0).map((s) => s.stop()));
  });

  afterAll(async () => {
    await Promise.all([producer.disconnect(), admin.disconnect()]);
  });

  it('records valid envelopes with their topic, partition and offset, in order per entity key', async () => {
    const topic = uniqueTopic('entity-events');
    await createTopics(admin, [{ topic, numPartitions: 4 }]);
    const sink = new CollectingSink();
    await startSource(topic, sink);

    const entities = ['INV-1', 'INV-2', 'INV-3', 'INV-4', 'INV-5'];
    const sent = entities.flatMap((id) => Array.from({ length: 20 }, (_, seq) => envelope(id, seq)));
    // Interleave producers' writes per entity, one send per round, as real producers would.
    for (let seq = 0; seq < 20; seq += 1) {
      await producer.send({ topic, messages: entities.map((id) => asMessage(envelope(id, seq))) });
    }

    await waitFor(() => sink.recorded.length >= sent.length, 30_000, 'every envelope recorded');
    expect(sink.ids().sort()).toEqual(sent.map((e) => e.id).sort());
    for (const id of entities) {
      const seen = sink.recorded.filter((r) => r.envelope.entityId === id);
      expect(seen.map((r) => r.envelope.data.seq)).toEqual(Array.from({ length: 20 }, (_, i) => i));
      const partitions = new Set(seen.map((r) => (r.source.kind === 'kafka' ? r.source.partition : -1)));
      expect(partitions.size).toBe(1);
    }
    const first = sink.recorded[0].source;
    expect(first).toEqual({
      kind: 'kafka',
      topic,
      partition: expect.any(Number),
      offset: expect.stringMatching(/^\d+$/),
    });
    // Offsets are those the broker assigned: strictly increasing within each partition.
    const byPartition = new Map<number, number[]>();
    for (const { source } of sink.recorded) {
      if (source.kind !== 'kafka') throw new Error('expected a kafka source');
      byPartition.set(source.partition, [...(byPartition.get(source.partition) ?? []), Number(source.offset)]);
    }
    for (const offsets of byPartition.values()) expect(offsets).toEqual([...offsets].sort((a, b) => a - b));
  });

  it('sends every kind of bad message to <topic>.dlq with the reason headers, and keeps consuming', async () => {
    const topic = uniqueTopic('entity-events');
    await createTopics(admin, [{ topic, numPartitions: 1 }]);
    const sink = new CollectingSink();
    const counter = new DeadLetterCounter();
    await startSource(topic, sink, counter, { maxMessageBytes: 2_048 });

    const good1 = envelope('INV-9', 0);
    const good2 = envelope('INV-9', 1);
    const huge = envelope('INV-9', 2, { data: { blob: 'x'.repeat(4_000) } });
    await producer.send({
      topic,
      messages: [
        { key: 'Invoice:INV-9', value: '{"id": "evt-1", oops' },
        asMessage(good1),
        {
          key: 'Invoice:INV-9',
          value: JSON.stringify({ ...good1, id: 'evt-bad', kind: 'renamed' }),
          headers: { traceparent: 't-1' },
        },
        asMessage(huge),
        { key: 'Invoice:INV-10', value: JSON.stringify({ ...good1, id: 'evt-wrong-key' }) },
        { key: null, value: JSON.stringify({ ...good1, id: 'evt-no-key' }) },
        { key: 'Invoice:INV-9', value: null },
        asMessage(good2),
      ],
    });

    await waitFor(
      () => sink.recorded.length >= 2 && counter.total() >= 6,
      30_000,
      'valid recorded and bad dead-lettered',
    );
    expect(sink.ids()).toEqual([good1.id, good2.id]);
    expect(counter.snapshot()).toEqual({
      [DeadLetterReason.NotJson]: 1,
      [DeadLetterReason.Invalid]: 1,
      [DeadLetterReason.TooLarge]: 1,
      [DeadLetterReason.KeyMismatch]: 2,
      [DeadLetterReason.Empty]: 1,
    });
    expect(counter.total()).toBe(6);

    const dlq = await readAll(`${topic}.dlq`, 6);
    const header = (m: KafkaMessage, name: string) => m.headers?.[name]?.toString();
    const byOffset = new Map(dlq.map((m) => [header(m, DLQ_HEADERS.originalOffset), m]));
    const expectations: [string, string, string | null][] = [
      ['0', DeadLetterReason.NotJson, '{"id": "evt-1", oops'],
      ['2', DeadLetterReason.Invalid, null],
      ['3', DeadLetterReason.TooLarge, JSON.stringify(huge)],
      ['4', DeadLetterReason.KeyMismatch, null],
      ['5', DeadLetterReason.KeyMismatch, null],
      ['6', DeadLetterReason.Empty, null],
    ];
    for (const [offset, reason, value] of expectations) {
      const m = byOffset.get(offset);
      expect(m).toBeDefined();
      if (!m) continue;
      expect(header(m, DLQ_HEADERS.reason)).toBe(reason);
      expect(header(m, DLQ_HEADERS.originalTopic)).toBe(topic);
      expect(header(m, DLQ_HEADERS.originalPartition)).toBe('0');
      expect(header(m, DLQ_HEADERS.message)?.length).toBeGreaterThan(0);
      if (value !== null) expect(m.value?.toString()).toBe(value);
    }
    expect(header(byOffset.get('2')!, DLQ_HEADERS.message)).toContain('kind');
    expect(header(byOffset.get('2')!, 'traceparent')).toBe('t-1');
    expect(byOffset.get('4')!.key?.toString()).toBe('Invoice:INV-10');
    expect(byOffset.get('5')!.key).toBeNull();
    expect(byOffset.get('6')!.value).toBeNull();
  });

  it('sends an envelope with a key twice in one object to <topic>.dlq as ENTITY_EVENT.DUPLICATE_KEY, escapes included', async () => {
    const topic = uniqueTopic('entity-events');
    await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
    const sink = new CollectingSink();
    const counter = new DeadLetterCounter();
    await startSource(topic, sink, counter);

    const good = envelope('INV-9', 0);
    // Last-wins would have recorded these as deleted: nobody can know which kind the producer meant.
    const twice = JSON.stringify({ ...good, id: 'evt-twice' }).replace(
      '"kind":"created"',
      '"kind":"created","kind":"deleted"',
    );
    const escaped = JSON.stringify({ ...good, id: 'evt-escaped' }).replace(
      '"kind":"created"',
      '"kind":"created","k\\u0069nd":"deleted"',
    );
    expect(JSON.parse(twice)).toMatchObject({ kind: 'deleted' });
    expect(JSON.parse(escaped)).toMatchObject({ kind: 'deleted' });
    await producer.send({
      topic,
      messages: [{ key: 'Invoice:INV-9', value: twice }, { key: 'Invoice:INV-9', value: escaped }, asMessage(good)],
    });

    await waitFor(() => sink.recorded.length >= 1 && counter.total() >= 2, 30_000, 'duplicates dead-lettered');
    expect(sink.ids()).toEqual([good.id]);
    expect(counter.snapshot()).toEqual({ [DeadLetterReason.DuplicateKey]: 2 });
    const dlq = await readAll(`${topic}.dlq`, 2);
    const header = (m: KafkaMessage, name: string) => m.headers?.[name]?.toString();
    expect(
      dlq.map((m) => [header(m, DLQ_HEADERS.reason), header(m, DLQ_HEADERS.message), m.value?.toString()]),
    ).toEqual([
      [DeadLetterReason.DuplicateKey, "duplicate key 'kind' at kind", twice],
      [DeadLetterReason.DuplicateKey, "duplicate key 'kind' at kind", escaped],
    ]);
  });

  it('redelivers a batch the sink failed to record, then records it and commits', async () => {
    const topic = uniqueTopic('entity-events');
    await createTopics(admin, [{ topic, numPartitions: 1 }]);
    const sink = new CollectingSink(1);
    await startSource(topic, sink);
    const sent = [envelope('INV-20', 0), envelope('INV-20', 1), envelope('INV-20', 2)];
    await producer.send({ topic, messages: sent.map(asMessage) });

    await waitFor(() => sink.recorded.length >= 3, 30_000, 'recorded after the failure');
    expect(sink.calls).toBeGreaterThanOrEqual(2);
    expect(sink.ids()).toEqual(sent.map((e) => e.id));
    await waitFor(
      async () => (await committedOffset(admin, `group-${topic}`, topic)) === '3',
      10_000,
      'offset 3 committed',
    );
  });

  it('commits recorded offsets on its own cadence, not after each batch, and every recorded one on stop', async () => {
    const topic = uniqueTopic('entity-events');
    await createTopics(admin, [{ topic, numPartitions: 1 }]);
    const sink = new CollectingSink();
    // An interval no run reaches: only stop commits.
    const source = await startSource(topic, sink, undefined, { commitIntervalMs: 3_600_000 });
    for (let seq = 0; seq < 3; seq++) {
      await producer.send({ topic, messages: [asMessage(envelope('INV-25', seq))] });
      await waitFor(() => sink.recorded.length > seq, 30_000, `event ${seq} recorded`);
    }
    expect(sink.calls).toBe(3);
    expect(await committedOffset(admin, `group-${topic}`, topic)).toBe('-1');

    await source.stop();
    expect(await committedOffset(admin, `group-${topic}`, topic)).toBe('3');
  });

  it('commits nothing while the sink fails, so another consumer of the group gets the messages again', async () => {
    const topic = uniqueTopic('entity-events');
    await createTopics(admin, [{ topic, numPartitions: 1 }]);
    const failing = new CollectingSink(Number.MAX_SAFE_INTEGER);
    const first = await startSource(topic, failing);
    const sent = [envelope('INV-30', 0), envelope('INV-30', 1)];
    await producer.send({ topic, messages: sent.map(asMessage) });
    await waitFor(() => failing.calls >= 1, 30_000, 'the failing sink was called');
    await first.stop();
    expect(await committedOffset(admin, `group-${topic}`, topic)).toBe('-1');

    const healthy = new CollectingSink();
    await startSource(topic, healthy);
    await waitFor(() => healthy.recorded.length >= 2, 30_000, 'redelivered to the next consumer');
    expect(healthy.ids()).toEqual(sent.map((e) => e.id));
  });

  it.each(['gzip', 'snappy', 'lz4', 'zstd'] as const)(
    'records batches the broker compressed with %s (Java codecs, topic compression.type)',
    async (codec) => {
      const topic = uniqueTopic(`entity-events-${codec}`);
      await createTopics(admin, [
        { topic, numPartitions: 1, configEntries: [{ name: 'compression.type', value: codec }] },
      ]);
      const sent = Array.from({ length: 10 }, (_, seq) => envelope('INV-50', seq));
      await producer.send({ topic, messages: sent.map(asMessage) });
      const before = decompressedBatchCounts()[codec];
      const sink = new CollectingSink();
      const source = await startSource(topic, sink);
      await waitFor(() => sink.recorded.length >= sent.length, 30_000, `the ${codec} batch recorded`);
      expect(sink.ids()).toEqual(sent.map((e) => e.id));
      expect(decompressedBatchCounts()[codec]).toBeGreaterThan(before);
      expect(source.health().ok).toBe(true);
    },
  );

  it('reports a batch it cannot decode (error log, count, health) and keeps the other partitions going; nothing is skipped', async () => {
    const topic = uniqueTopic('entity-events');
    await createTopics(admin, [{ topic, numPartitions: 2 }]);
    const on = (partition: number) => (e: EntityEventEnvelope) => ({ ...asMessage(e), partition });
    const before = envelope('INV-40', 0);
    const unreadable = [envelope('INV-40', 1), envelope('INV-40', 2)];
    const elsewhere = envelope('INV-41', 0);
    await producer.send({ topic, messages: [before].map(on(0)) });
    await producer.send({ topic, compression: CompressionTypes.LZ4, messages: unreadable.map(on(0)) });

    const restore = replaceKafkaCodec('lz4', undefined);
    const logger = new CapturingLogger();
    const sink = new CollectingSink();
    try {
      const source = await startSource(topic, sink, new DeadLetterCounter(), {}, logger);
      await waitFor(() => source.health().stuckPartitions.length === 1, 30_000, 'the partition reported stuck');
      await producer.send({ topic, messages: [elsewhere].map(on(1)) });
      await waitFor(() => sink.ids().includes(elsewhere.id), 30_000, 'the other partition still consumed');

      expect(sink.ids().sort()).toEqual([before.id, elsewhere.id].sort());
      expect(source.health()).toEqual({
        ok: false,
        stuckPartitions: [
          {
            topic,
            partition: 0,
            codec: 'lz4',
            error: 'No lz4 codec can decompress here',
            firstOffset: '1',
            lastOffset: '2',
            since: expect.any(String),
          },
        ],
      });
      expect(source.undecodableBatches).toBe(1);
      expect(source.consumerCrashes).toBe(0);
      const reported = logger.lines.filter((l) => l.level === 'error' && l.msg.includes('cannot be decoded'));
      expect(reported).toHaveLength(1);
      expect(reported[0].obj).toMatchObject({ topic, partition: 0, offset: '1', codec: 'lz4' });
      await waitFor(
        async () => (await committedOffset(admin, `group-${topic}`, topic)) === '1',
        10_000,
        'offset 1 committed on partition 0, and no further',
      );
      await source.stop();
    } finally {
      restore();
    }

    // With the codec back, the next start records the batch: it was paused, never skipped.
    const later = new CollectingSink();
    const again = await startSource(topic, later);
    await waitFor(() => unreadable.every((e) => later.ids().includes(e.id)), 30_000, 'the batch recorded');
    expect(later.ids().filter((id) => id.startsWith('evt-INV-40'))).toEqual(unreadable.map((e) => e.id));
    expect(again.health()).toEqual({ ok: true, stuckPartitions: [] });
  });
});

class CapturingLogger implements EntityEventsLogger {
  readonly lines: { level: string; obj: Record<string, unknown>; msg: string }[] = [];
  info(obj: Record<string, unknown>, msg: string): void {
    this.lines.push({ level: 'info', obj, msg });
  }
  warn(obj: Record<string, unknown>, msg: string): void {
    this.lines.push({ level: 'warn', obj, msg });
  }
  error(obj: Record<string, unknown>, msg: string): void {
    this.lines.push({ level: 'error', obj, msg });
  }
}

async function committedOffset(admin: Admin, groupId: string, topic: string): Promise<string | undefined> {
  const [entry] = await admin.fetchOffsets({ groupId, topics: [topic] });
  return entry?.partitions.find((p) => p.partition === 0)?.offset;
}
