/**
 * The broker's limit next to Lifeline's Kafka path: the same envelopes produced to a fresh topic,
 * once read by a plain kafkajs consumer, once ingested by Lifeline until every task is visible.
 */
import { Kafka, logLevel, Partitioners, type Producer } from 'kafkajs';
import { bearer, LifelineProcess } from '../lib/lifeline-server';
import { sleep } from '../lib/measure';
import { envelopeOf, publishDefinition } from './lifeline-peer';
import { REVIEWERS } from './scenario';

export interface KafkaLimitRow {
  n: number;
  rawConsumePerSecond: number;
  lifelinePerSecond: number;
  lifelineCpuSeconds: number;
}

const REVIEWER = bearer('bench-reviewer', [REVIEWERS]);

async function produceAll(producer: Producer, topic: string, run: string, n: number): Promise<void> {
  for (let i = 0; i < n; i += 1000) {
    const batch = Array.from({ length: Math.min(1000, n - i) }, (_, j) => envelopeOf(run, i + j));
    await producer.send({
      topic,
      messages: batch.map((e) => ({ key: `${e.entityType}:${e.entityId}`, value: JSON.stringify(e) })),
    });
  }
}

/** Undefined when no broker answers (the row is then left out and the table says so). */
export async function kafkaLimit(n: number): Promise<KafkaLimitRow | undefined> {
  const brokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
  const kafka = new Kafka({ brokers, logLevel: logLevel.NOTHING, clientId: 'lifeline-peers-bench' });
  const admin = kafka.admin();
  try {
    await admin.connect();
  } catch {
    return undefined;
  }
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  const topics = [1, 2].map((k) => `bench-peers-${Date.now()}-${k}`);
  try {
    await admin.createTopics({ topics: topics.map((topic) => ({ topic, numPartitions: 4 })), waitForLeaders: true });
    // Raw: a consumer that parses each envelope and nothing else.
    const consumer = kafka.consumer({ groupId: `raw-${topics[0]}` });
    await consumer.connect();
    await consumer.subscribe({ topic: topics[0]!, fromBeginning: true });
    let consumed = 0;
    await consumer.run({
      eachBatch: async ({ batch }) => {
        for (const message of batch.messages) if (message.value) JSON.parse(message.value.toString());
        consumed += batch.messages.length;
      },
    });
    const rawStarted = performance.now();
    await produceAll(producer, topics[0]!, 'kr', n);
    while (consumed < n) await sleep(2);
    const rawSeconds = (performance.now() - rawStarted) / 1000;
    await consumer.disconnect();

    const server = new LifelineProcess();
    try {
      await server.start({
        LIFELINE_DEMO: 'false',
        LIFELINE_ENTITY_SOURCE: 'kafka',
        KAFKA_TOPICS: topics[1]!,
        KAFKA_BROKERS: brokers.join(','),
        KAFKA_GROUP_ID: `bench-${topics[1]}`,
      });
      await publishDefinition(server);
      const cpu0 = server.cpuSeconds();
      const started = performance.now();
      await produceAll(producer, topics[1]!, 'kl', n);
      for (;;) {
        const page = await server.request<{ counts: { open: number } }>('GET', '/tasks?status=open&limit=1', REVIEWER);
        if (page.counts.open >= n) break;
        await sleep(5);
      }
      const seconds = (performance.now() - started) / 1000;
      return {
        n,
        rawConsumePerSecond: n / rawSeconds,
        lifelinePerSecond: n / seconds,
        lifelineCpuSeconds: server.cpuSeconds() - cpu0,
      };
    } finally {
      await server.stop();
    }
  } finally {
    await admin.deleteTopics({ topics }).catch(() => undefined);
    await producer.disconnect();
    await admin.disconnect();
  }
}
