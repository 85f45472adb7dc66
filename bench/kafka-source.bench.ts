/**
 * The Kafka entity source alone, without the engine: envelopes produced at a fixed rate (10 ms ticks, open loop)
 * to a fresh 4-partition topic, read by KafkaEntityEventSource into a sink that spends BENCH_SOURCE_BUSY_MS of
 * CPU per envelope (standing in for the unit of work). Prints produce → handed to the sink p50/p99, sink calls,
 * offset commits per second and this process's CPU per envelope (producer included). Not a test. Run:
 *   npm run -s build && node dist/bench/kafka-source.bench.js
 * Settings: BENCH_RATE (1000/s), BENCH_SOURCE_SECONDS (15), BENCH_SOURCE_BUSY_MS (0.4), BENCH_SOURCE_ROUNDS (2),
 * KAFKA_BROKERS (127.0.0.1:9092), BENCH_SOURCE_BASELINE=<another build's
 * dist/libs/entity-events/src/kafka/kafka-entity-source.js> (measured in the same run, alternating).
 */
import { Kafka, Partitioners, logLevel, type Consumer } from 'kafkajs';
import { DeadLetterCounter, KafkaEntityEventSource, type EntityEventSink } from '@lifeline/entity-events';
import { markdownTable, sleep } from './lib/measure';

const RATE = Number(process.env.BENCH_RATE ?? 1000);
const SECONDS = Number(process.env.BENCH_SOURCE_SECONDS ?? 15);
const BUSY_MS = Number(process.env.BENCH_SOURCE_BUSY_MS ?? 0.4);
const ROUNDS = Number(process.env.BENCH_SOURCE_ROUNDS ?? 2);
const BROKERS = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
const BASELINE = process.env.BENCH_SOURCE_BASELINE;

type SourceClass = typeof KafkaEntityEventSource;

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

async function measure(build: string, Source: SourceClass, kafka: Kafka, round: number): Promise<string[]> {
  const admin = kafka.admin();
  await admin.connect();
  const topic = `bench-source-${Date.now()}-${round}`;
  await admin.createTopics({ topics: [{ topic, numPartitions: 4 }], waitForLeaders: true });
  await admin.disconnect();
  const sentAt = new Map<string, number>();
  const latencies: number[] = [];
  let calls = 0;
  const sink: EntityEventSink = {
    record: async (batch) => {
      calls++;
      const started = performance.now();
      while (performance.now() - started < BUSY_MS * batch.length);
      await new Promise((resolve) => setImmediate(resolve));
      const now = performance.now();
      for (const { envelope } of batch) latencies.push(now - (sentAt.get(envelope.id) ?? now));
    },
  };
  const source = new Source(
    { brokers: BROKERS, topics: [topic], groupId: `bench-${topic}` },
    sink,
    new DeadLetterCounter(),
  );
  await source.start();
  // The consumer is private; the bench only counts its offset commits.
  const consumer = (source as unknown as { consumer: Consumer }).consumer;
  let commits = 0;
  consumer.on(consumer.events.COMMIT_OFFSETS, () => commits++);
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  await sleep(1000);

  const perTick = Math.max(1, Math.round(RATE / 100));
  const inFlight = new Set<Promise<unknown>>();
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  let n = 0;
  for (let tick = 0; performance.now() - started < SECONDS * 1000; tick++) {
    const wait = started + tick * 10 - performance.now();
    if (wait > 0) await sleep(wait);
    while (inFlight.size >= 16) await Promise.race(inFlight);
    const messages = Array.from({ length: perTick }, () => {
      const id = `${topic}-${n}`;
      const entityId = `R-${n++ % 97}`;
      sentAt.set(id, performance.now());
      const value = { id, entityType: 'Invoice', entityId, kind: 'updated', occurredAt: new Date().toISOString() };
      return { key: `Invoice:${entityId}`, value: JSON.stringify({ ...value, data: { n }, changed: ['n'] }) };
    });
    const sent: Promise<unknown> = producer.send({ topic, messages }).finally(() => inFlight.delete(sent));
    inFlight.add(sent);
  }
  await Promise.all(inFlight);
  for (const deadline = Date.now() + 30_000; latencies.length < n && Date.now() < deadline;) await sleep(20);
  const cpu = process.cpuUsage(cpuBefore);
  const seconds = (performance.now() - started) / 1000;
  await producer.disconnect();
  await source.stop();
  return [
    build,
    String(round),
    `${latencies.length}/${n}`,
    percentile(latencies, 50).toFixed(1),
    percentile(latencies, 99).toFixed(1),
    String(calls),
    (commits / seconds).toFixed(1),
    ((cpu.user + cpu.system) / 1000 / n).toFixed(3),
  ];
}

async function main(): Promise<void> {
  const builds: { build: string; Source: SourceClass }[] = [{ build: 'this build', Source: KafkaEntityEventSource }];
  if (BASELINE) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const other = require(BASELINE) as { KafkaEntityEventSource: SourceClass };
    builds.push({ build: BASELINE.replace(/\/dist\/libs\/.*$/, ''), Source: other.KafkaEntityEventSource });
  }
  const kafka = new Kafka({ brokers: BROKERS, logLevel: logLevel.NOTHING });
  const rows: string[][] = [];
  // Alternating rounds, so the neighbours' load falls on every build alike.
  for (let round = 1; round <= ROUNDS; round++)
    for (const { build, Source } of builds) rows.push(await measure(build, Source, kafka, round));
  console.log(`${RATE}/s for ${SECONDS} s, sink busy ${BUSY_MS} ms per envelope\n`);
  console.log(
    markdownTable(
      ['build', 'round', 'handed to sink', 'p50 ms', 'p99 ms', 'sink calls', 'offset commits/s', 'CPU ms/envelope'],
      ['l', 'r', 'r', 'r', 'r', 'r', 'r', 'r'],
      rows,
    ),
  );
}

void main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
