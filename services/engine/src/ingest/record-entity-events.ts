import {
  streams,
  type EntityEventEnvelope,
  type EntityEventRecorded,
  type EntityEventSource,
} from '@lifeline/process-domain';
import type { EventStore } from '@lifeline/event-store';
import type { Clock } from '../shared/clock';
import { entityEventStoreId } from '../shared/ids';

export interface EntityEventToRecord {
  envelope: EntityEventEnvelope;
  source: EntityEventSource;
}

export interface RecordOutcome {
  /** Global position of the last event of the batch (recorded now or before). */
  position: number;
  recorded: number;
  duplicates: number;
}

/**
 * Ingest: each envelope becomes one EntityEventRecorded on `entity-<Type>-<id>`, keyed by the
 * envelope id (the same id twice is recorded once), the whole batch in one store transaction.
 */
export class RecordEntityEvents {
  constructor(
    private readonly store: EventStore,
    private readonly clock: Clock,
  ) {}

  async record(batch: EntityEventToRecord[], actor = 'system'): Promise<RecordOutcome> {
    if (batch.length === 0) return { position: await this.store.headPosition(), recorded: 0, duplicates: 0 };
    const at = this.clock.nowIso();
    // One request per envelope: each is idempotent on its own id, and order within a record is kept.
    const results = await this.store.appendMany(
      batch.map(({ envelope, source }) => {
        const id = entityEventStoreId(envelope.id);
        const data: EntityEventRecorded['data'] = { envelope, source };
        return {
          streamId: streams.entity(envelope.entityType, envelope.entityId),
          expectedRevision: 'any' as const,
          events: [
            { id, type: 'EntityEventRecorded', data, metadata: { correlationId: id, causationId: id, actor, at } },
          ],
        };
      }),
    );
    const duplicates = results.filter((r) => r.duplicate).length;
    return {
      position: Math.max(...results.map((r) => r.position)),
      recorded: results.length - duplicates,
      duplicates,
    };
  }
}
