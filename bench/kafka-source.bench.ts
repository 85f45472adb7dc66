/**
 * The Kafka entity source alone, without the engine: envelopes produced at a fixed rate (10 ms ticks, open loop)
 * to a fresh 4-partition topic, read by KafkaEntityEventSource into a sink that spends BENCH_SOURCE_BUSY_MS of
 * CPU per envelope (standing in for the unit of work). Prints produce → handed to the sink p50/p99, sink calls,
 * offset commits per second and this process's CPU per envelope (producer included). Not a test. Run:
 *   npm run -s build && node dist/bench/kafka-source.bench.js
 * Settings: BENCH_RATE (1000/s), BENCH_SOURCE_SECONDS (15), BENCH_SOURCE_BUSY_MS (0.4), BENCH_SOURCE_ROUNDS (2),
 * KAFKA_BROKERS (127.0.0.1:9092), BENCH_SOURCE_BASELINE=<another build's
 * dist/libs/entity-events/src/kafka/kafka-entity-source.js> (measured in the same run, alternating).
 * BENCH_SOURCE_MODE=drain measures the source's ceiling instead (docs/scaling.md): for each partition count in
 * BENCH_SOURCE_PARTITIONS (1,12), BENCH_SOURCE_N (100000) invoice envelopes are produced to a fresh topic first, then
 * one source reads them from the beginning into a sink that spends BENCH_SOURCE_BUSY_MS (0 in this mode) per envelope;
 * envelopes/s from the first handed to the sink to the last, sink calls and this process's CPU per envelope.
 */
import { Kafka, Partitioners, logLevel, type Consumer } from 'kafkajs';
import { DeadLetterCounter, KafkaEntityEventSource, type EntityEventSink } from '@lifeline/entity-events';
import { invoiceEnvelope } from './lib/invoice-envelope';
import { markdownTable, sleep } from './lib/measure';

const RATE = Number(process.env.BENCH_RATE ?? 1000);
const SECONDS = Number(process.env.BENCH_SOURCE_SECONDS ?? 15);
const MODE = process.env.BENCH_SOURCE_MODE ?? 'rate';
const BUSY_MS = Number(process.env.BENCH_SOURCE_BUSY_MS ?? (MODE === 'drain' ? 0 : 0.4));
const ROUNDS = Number(process.env.BENCH_SOURCE_ROUNDS ?? 2);
const BROKERS = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
const BASELINE = process.env.BENCH_SOURCE_BASELINE;

type SourceClass = typeof KafkaEntityEventSource;

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

/** A sink that spends BUSY_MS of CPU per envelope (standing in for the unit of work) and yields, as a commit does. */
function busySink(onRecorded: (batch: Parameters<EntityEventSink['record']>[0]) => void): EntityEventSink {
  return {
    record: async (batch) => {
      const started = performance.now();
      while (performance.now() - started < BUSY_MS * batch.length);
      await new Promise((resolve) => setImmediate(resolve));
      onRecorded(batch);
    },
  };
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
  const sink = busySink((batch) => {
    calls++;
    const now = performance.now();
    for (const { envelope } of batch) latencies.push(now - (sentAt.get(envelope.id) ?? now));
  });
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

/** A topic of `partitions` filled with `n` invoice envelopes, then read from the beginning by one source. */
async function drain(Source: SourceClass, kafka: Kafka, partitions: number, n: number): Promise<string[]> {
  const admin = kafka.admin();
  await admin.connect();
  const topic = `bench-drain-${Date.now()}-${partitions}`;
  await admin.createTopics({ topics: [{ topic, numPartitions: partitions }], waitForLeaders: true });
  await admin.disconnect();
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  const at = new Date().toISOString();
  for (let i = 0; i < n; i += 2_000) {
    const messages = Array.from({ length: Math.min(2_000, n - i) }, (_, j) => {
      const envelope = invoiceEnvelope(topic, i + j, {}, at);
      return { key: `Invoice:${envelope.entityId}`, value: JSON.stringify(envelope) };
    });
    await producer.send({ topic, messages });
  }
  await producer.disconnect();
  let handed = 0;
  let calls = 0;
  let first = 0;
  let last = 0;
  let cpuBefore: NodeJS.CpuUsage | undefined;
  const sink = busySink((batch) => {
    if (calls++ === 0) {
      first = performance.now();
      cpuBefore = process.cpuUsage();
    }
    handed += batch.length;
    last = performance.now();
  });
  const source = new Source(
    { brokers: BROKERS, topics: [topic], groupId: `bench-${topic}` },
    sink,
    new DeadLetterCounter(),
  );
  await source.start();
  for (const deadline = Date.now() + 120_000; handed < n && Date.now() < deadline;) await sleep(20);
  const cpu = process.cpuUsage(cpuBefore);
  await source.stop();
  if (handed < n) throw new Error(`${handed} of ${n} envelopes handed to the sink in 120 s`);
  const seconds = (last - first) / 1000;
  return [
    String(partitions),
    String(n),
    seconds.toFixed(2),
    String(Math.round(n / seconds)),
    String(Math.round(n / seconds / partitions)),
    String(calls),
    (n / calls).toFixed(0),
    ((cpu.user + cpu.system) / 1000 / n).toFixed(4),
  ];
}

async function drainRows(): Promise<void> {
  const partitions = (process.env.BENCH_SOURCE_PARTITIONS ?? '1,12').split(',').map(Number);
  const n = Number(process.env.BENCH_SOURCE_N ?? 100_000);
  const kafka = new Kafka({ brokers: BROKERS, logLevel: logLevel.NOTHING });
  const rows: string[][] = [];
  for (let round = 1; round <= ROUNDS; round++)
    for (const p of partitions) rows.push([String(round), ...(await drain(KafkaEntityEventSource, kafka, p, n))]);
  console.log(`drain: a pre-filled topic read from the beginning, sink busy ${BUSY_MS} ms per envelope\n`);
  console.log(
    markdownTable(
      [
        'round',
        'partitions',
        'envelopes',
        'seconds',
        'envelopes/s',
        'per partition/s',
        'sink calls',
        'envelopes per call',
        'CPU ms/envelope',
      ],
      ['r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r'],
      rows,
    ),
  );
}

async function main(): Promise<void> {
  if (MODE === 'drain') return drainRows();
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
