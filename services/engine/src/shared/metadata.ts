import type { EventMetadataIn, StoreTx } from '@lifeline/event-store';
import type { EntityRef } from '@lifeline/process-domain';

/** Who and what caused a command: becomes the metadata of every event it appends. */
export interface CommandOrigin {
  /** Deterministic for commands the engine may repeat (process manager, timers); random for users. */
  commandId: string;
  correlationId: string;
  causationId: string;
  /**
   * The recorded time the ids of what it appends derive from, for a command the engine may repeat
   * (the causing event's time); without it, the command's own time (a user's command is never repeated).
   */
  idTime?: string;
  /** The W3C trace context (`traceparent`) the command arrived in; kept in the metadata of what it appends. */
  traceparent?: string;
}

export const metadataFor = (origin: CommandOrigin, actor: string, at: string): EventMetadataIn => ({
  correlationId: origin.correlationId,
  causationId: origin.causationId,
  actor,
  at,
  ...(origin.traceparent !== undefined ? { traceparent: origin.traceparent } : {}),
});

/** A record's partition key (EventMetadataIn.partitionKey): the Kafka key of its entity events. */
export const partitionKeyOf = (entity: EntityRef): string => `${entity.type}:${entity.id}`;

/** The metadata naming the record the event belongs to, where the store keeps it (StoreTx.keepsPartitions). */
export const onRecord = (tx: StoreTx, metadata: EventMetadataIn, entity: EntityRef | undefined): EventMetadataIn =>
  tx.keepsPartitions && entity !== undefined ? { ...metadata, partitionKey: partitionKeyOf(entity) } : metadata;
