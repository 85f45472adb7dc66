import { Kafka, Partitioners, logLevel, type Producer } from 'kafkajs';
import { silentLogger, type EntityEventsLogger } from '../logger';
import { SURVIVE_BROKER_RESTART_RETRY, kafkaLogCreator } from '../kafka/kafkajs-logging';
import { kafkaCompressionType, registerKafkaCodecs, type KafkaProducerCodec } from '../kafka/codecs';
import { ensureKafkaTopics, type KafkaTopicSettings } from '../kafka/topics';
import type { OutboundMessage, OutboundPublisher } from './outbound-publisher';

export interface KafkaOutboundOptions {
  brokers: string[];
  clientId?: string;
  /** How a topic is created before the first message to it (emit topics come from definitions). */
  topicSettings?: KafkaTopicSettings;
  /** Batch compression (default none); subscribers need the codec. */
  compression?: KafkaProducerCodec;
}

/**
 * Publishes to Kafka with an idempotent producer (acks=all, one request in flight), so a retry
 * inside the producer neither duplicates nor reorders messages of a partition.
 */
export class KafkaOutboundPublisher implements OutboundPublisher {
  private readonly kafka: Kafka;
  private readonly producer: Producer;
  private connecting: Promise<void> | undefined;
  /** Topics known to exist; the others are created (or waited for) before their first message. */
  private readonly ready = new Set<string>();

  constructor(
    private readonly options: KafkaOutboundOptions,
    private readonly logger: EntityEventsLogger = silentLogger,
  ) {
    registerKafkaCodecs();
    this.kafka = new Kafka({
      clientId: options.clientId ?? 'lifeline-outbound',
      brokers: options.brokers,
      retry: SURVIVE_BROKER_RESTART_RETRY,
      logLevel: logLevel.WARN,
      logCreator: kafkaLogCreator(logger),
    });
    this.producer = this.kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      createPartitioner: Partitioners.DefaultPartitioner,
    });
  }

  /**
   * Creates the topics if missing; throws KafkaTopicsMissing when that is not allowed, so the
   * relay retries with its backoff (and can stop) rather than wait here.
   */
  async ensureTopics(topics: string[]): Promise<void> {
    const missing = topics.filter((topic) => !this.ready.has(topic));
    if (missing.length === 0) return;
    await ensureKafkaTopics(this.kafka, missing, {
      settings: this.options.topicSettings,
      logger: this.logger,
      wait: false,
    });
    for (const topic of missing) this.ready.add(topic);
  }

  async publish(messages: OutboundMessage[]): Promise<void> {
    if (messages.length === 0) return;
    // One request for the whole batch; within each topic the order of `messages` is kept.
    const byTopic = new Map<string, OutboundMessage[]>();
    for (const m of messages) byTopic.set(m.topic, [...(byTopic.get(m.topic) ?? []), m]);
    await this.ensureTopics([...byTopic.keys()]);
    await this.connect();
    await this.producer.sendBatch({
      acks: -1,
      compression: kafkaCompressionType(this.options.compression ?? 'none'),
      topicMessages: [...byTopic].map(([topic, list]) => ({
        topic,
        messages: list.map(({ key, value, headers }) => ({ key, value, headers })),
      })),
    });
  }

  async close(): Promise<void> {
    if (this.connecting) await this.connecting.catch(() => undefined);
    await this.producer.disconnect();
    this.connecting = undefined;
  }

  private connect(): Promise<void> {
    // A failed connect is forgotten so the next publish (the relay's retry) connects again.
    this.connecting ??= this.producer.connect().catch((error: unknown) => {
      this.connecting = undefined;
      throw error;
    });
    return this.connecting;
  }
}
