import { join } from 'node:path';
import {
  InMemoryCheckpointStore,
  InProcessOutboundPublisher,
  KafkaOutboundPublisher,
  type CheckpointStore,
  OutboxRelay,
  PROCESS_EVENTS_TOPIC,
  SqliteCheckpointStore,
  errorFields,
  type OutboundPublisher,
} from '@lifeline/entity-events';
import type { EventStore } from '@lifeline/event-store';
import type { Logger } from 'pino';
import type { LifelineConfig } from '../shared/config';

/**
 * Outbound: the outbox relay publishes `emit` messages and process lifecycle events, to Kafka
 * when configured, in process otherwise. Its checkpoint lives in its own small file.
 */
export class Outbound {
  readonly publisher: OutboundPublisher;
  readonly relay: OutboxRelay;
  private readonly checkpoints: CheckpointStore & { close?(): void };
  private readonly kafka: KafkaOutboundPublisher | undefined;

  constructor(
    config: LifelineConfig,
    store: EventStore,
    private readonly logger: Logger,
  ) {
    this.kafka = config.kafka.outbound
      ? new KafkaOutboundPublisher(
          {
            brokers: config.kafka.brokers,
            clientId: 'lifeline-outbox',
            topicSettings: config.kafka.topicSettings,
            compression: config.kafka.compression,
          },
          logger,
        )
      : undefined;
    this.publisher = this.kafka ?? new InProcessOutboundPublisher();
    // In process, messages live in memory and are gone with a restart: a durable checkpoint (a commit per
    // batch in its own file) would guard nothing. With Kafka it is what makes publishing at least once.
    this.checkpoints = this.kafka
      ? SqliteCheckpointStore.open(join(config.dataDir, 'outbox.db'))
      : new InMemoryCheckpointStore();
    this.relay = new OutboxRelay(store, this.publisher, this.checkpoints, logger);
    this.store = store;
  }

  private readonly store: EventStore;

  async start(): Promise<void> {
    // Subscribers may start before the first lifecycle event: the topic is there from the start.
    // Emit topics come from definitions and are created before their first message.
    await this.kafka?.ensureTopics([PROCESS_EVENTS_TOPIC]).catch((error: unknown) => {
      this.logger.warn(
        { ...errorFields(error), topic: PROCESS_EVENTS_TOPIC },
        'lifecycle topic not ready; publishing will retry',
      );
    });
    // In process there is nothing to catch up on after a restart: begin at the log's head.
    if (!this.kafka) await this.checkpoints.set('outbox-relay', await this.store.headPosition());
    return this.relay.start();
  }

  async stop(): Promise<void> {
    await this.relay.stop();
    await this.publisher.close();
    this.checkpoints.close?.();
  }
}
