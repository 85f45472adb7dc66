import {
  DeadLetterCounter,
  KafkaEntityEventSource,
  decompressedBatchCounts,
  type KafkaSourceHealth,
  type EntityEventSink,
  type RecordedEntityEvent,
} from '@lifeline/entity-events';
import { EventIdConflict } from '@lifeline/event-store';
import type { Logger } from 'pino';
import type { LifelineConfig } from '../shared/config';
import type { Reading } from '../shared/metrics';
import type { EntityEventToRecord, RecordOutcome } from './record-entity-events';

/**
 * The Kafka entity-event source wired to ingest: a batch is recorded in one store transaction
 * before its offsets are committed. An envelope id already used for another record cannot be
 * recorded; it is logged and counted instead of blocking its partition forever.
 */
export class KafkaIngest {
  readonly deadLetters = new DeadLetterCounter();
  readonly idConflicts = { count: 0 };
  private readonly source: KafkaEntityEventSource;

  constructor(
    config: LifelineConfig,
    ingest: { record(batch: EntityEventToRecord[]): Promise<RecordOutcome> },
    logger: Logger,
    /** Told the entity topic's partitions this engine is given (ownership by partition). */
    onAssignment?: (assignment: { partitionCount: number; partitions: number[] }) => void,
  ) {
    const sink: EntityEventSink = {
      record: async (batch: RecordedEntityEvent[]) => {
        try {
          await ingest.record(batch);
        } catch (error) {
          if (!(error instanceof EventIdConflict)) throw error;
          for (const item of batch) {
            try {
              await ingest.record([item]);
            } catch (single) {
              if (!(single instanceof EventIdConflict)) throw single;
              this.idConflicts.count++;
              logger.error(
                { entityEventId: item.envelope.id, source: item.source },
                'envelope id already recorded for another record; skipped',
              );
            }
          }
        }
      },
    };
    this.source = new KafkaEntityEventSource(
      {
        brokers: config.kafka.brokers,
        topics: config.kafka.topics,
        groupId: config.kafka.groupId,
        clientId: `lifeline-engine-${process.pid}`,
        topicSettings: config.kafka.topicSettings,
        ...(onAssignment ? { onAssignment } : {}),
      },
      sink,
      this.deadLetters,
      logger,
    );
  }

  start(): Promise<void> {
    return this.source.start();
  }

  stop(): Promise<void> {
    return this.source.stop();
  }

  /** Not ok while a partition is stuck on a batch this process cannot decode. */
  health(): KafkaSourceHealth {
    return this.source.health();
  }

  /** Each assigned partition's lag as of its last batch. */
  lag(): { topic: string; partition: number; lag: number }[] {
    return this.source.lag();
  }

  /** The source's counters by metric name, as /metrics reads them: one value, or one per label. */
  counters(): Record<string, Reading> {
    return {
      lifeline_dead_letters_total: this.deadLetters.total(),
      lifeline_entity_events_dead_lettered_total: Object.entries(this.deadLetters.snapshot()).map(([reason, count]) => [
        { reason },
        count,
      ]),
      lifeline_entity_events_id_conflict_total: this.idConflicts.count,
      lifeline_kafka_undecodable_batches_total: this.source.undecodableBatches,
      lifeline_kafka_stuck_partitions: this.source.health().stuckPartitions.length,
      lifeline_kafka_consumer_crashes_total: this.source.consumerCrashes,
      lifeline_kafka_decompressed_batches_total: Object.entries(decompressedBatchCounts()).map(([codec, count]) => [
        { codec },
        count,
      ]),
    };
  }
}
