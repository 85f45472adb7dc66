import {
  decodeEntityEvent,
  recordDecider,
  streams,
  type EntityEventEnvelope,
  type EntityEventSource,
} from '@lifeline/process-domain';
import type { StoreTx } from '@lifeline/event-store';
import type { Clock } from '../shared/clock';
import { entityEventStoreId } from '../shared/ids';
import { handleCommand } from '../pipeline/handle';

export interface EntityEventToRecord {
  envelope: EntityEventEnvelope;
  source: EntityEventSource;
  /** The W3C trace context it arrived in (an HTTP or Kafka `traceparent` header). */
  traceparent?: string;
}

export interface RecordOutcome {
  /** Global position of the last event of the batch (recorded now or before). */
  position: number;
  recorded: number;
  duplicates: number;
}

/**
 * Ingest: each envelope becomes one EntityEventRecorded on `entity-<Type>-<id>`, keyed by the
 * envelope id (the same id twice is recorded once), the whole batch in the caller's unit of work.
 */
export class RecordEntityEvents {
  constructor(private readonly clock: Clock) {}

  async record(tx: StoreTx, batch: EntityEventToRecord[], actor = 'system'): Promise<RecordOutcome> {
    if (batch.length === 0) return { position: await tx.headPosition(), recorded: 0, duplicates: 0 };
    const at = this.clock.nowIso();
    let position = 0;
    let duplicates = 0;
    // One append per envelope: each is idempotent on its own id, and order within a record is kept.
    for (const { envelope, source, traceparent } of batch) {
      const id = entityEventStoreId(envelope.id);
      const outcome = await handleCommand(tx, {
        streamId: streams.entity(envelope.entityType, envelope.entityId),
        decider: recordDecider,
        command: { type: 'RecordEntityEvent', envelope, source },
        context: () => undefined,
        decode: decodeEntityEvent,
        origin: { commandId: id, correlationId: id, causationId: id, ...(traceparent ? { traceparent } : {}) },
        actor,
        at,
        expectedRevision: 'any',
        ids: () => [id],
      });
      if (outcome.duplicate) duplicates++;
      position = Math.max(position, outcome.position);
    }
    return { position, recorded: batch.length - duplicates, duplicates };
  }
}
