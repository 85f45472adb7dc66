import { join } from 'node:path';
import {
  InProcessOutboundPublisher,
  KafkaOutboundPublisher,
  OutboxRelay,
  SqliteCheckpointStore,
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
  private readonly checkpoints: SqliteCheckpointStore;

  constructor(config: LifelineConfig, store: EventStore, logger: Logger) {
    this.publisher = config.kafka.outbound
      ? new KafkaOutboundPublisher({ brokers: config.kafka.brokers, clientId: 'lifeline-outbox' }, logger)
      : new InProcessOutboundPublisher();
    this.checkpoints = SqliteCheckpointStore.open(join(config.dataDir, 'outbox.db'));
    this.relay = new OutboxRelay(store, this.publisher, this.checkpoints, logger);
  }

  start(): Promise<void> {
    return this.relay.start();
  }

  async stop(): Promise<void> {
    await this.relay.stop();
    await this.publisher.close();
    this.checkpoints.close();
  }
}
