import { Kafka, Partitioners, logLevel, type Producer } from 'kafkajs';
import { silentLogger, type EntityEventsLogger } from '../logger';
import { SURVIVE_BROKER_RESTART_RETRY, kafkaLogCreator } from '../kafka/kafkajs-logging';
import type { OutboundMessage, OutboundPublisher } from './outbound-publisher';

export interface KafkaOutboundOptions {
  brokers: string[];
  clientId?: string;
}

/**
 * Publishes to Kafka with an idempotent producer (acks=all, one request in flight), so a retry
 * inside the producer neither duplicates nor reorders messages of a partition.
 */
export class KafkaOutboundPublisher implements OutboundPublisher {
  private readonly producer: Producer;
  private connecting: Promise<void> | undefined;

  constructor(options: KafkaOutboundOptions, logger: EntityEventsLogger = silentLogger) {
    const kafka = new Kafka({
      clientId: options.clientId ?? 'lifeline-outbound',
      brokers: options.brokers,
      retry: SURVIVE_BROKER_RESTART_RETRY,
      logLevel: logLevel.WARN,
      logCreator: kafkaLogCreator(logger),
    });
    this.producer = kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: true,
      createPartitioner: Partitioners.DefaultPartitioner,
    });
  }

  async publish(messages: OutboundMessage[]): Promise<void> {
    if (messages.length === 0) return;
    await this.connect();
    // One request for the whole batch; within each topic the order of `messages` is kept.
    const byTopic = new Map<string, OutboundMessage[]>();
    for (const m of messages) byTopic.set(m.topic, [...(byTopic.get(m.topic) ?? []), m]);
    await this.producer.sendBatch({
      acks: -1,
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
