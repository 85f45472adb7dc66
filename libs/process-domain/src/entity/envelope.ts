import type { EntityEventKind } from '../definition/definition';

/** The input contract: what an application says happened to one of its records. */
export interface EntityEventEnvelope {
  id: string;
  entityType: string;
  entityId: string;
  kind: EntityEventKind;
  occurredAt: string;
  data: Record<string, unknown>;
  changed?: string[];
}

/** Where an envelope came from; Kafka fills topic/partition/offset. */
export type EntityEventSource =
  { kind: 'http' } | { kind: 'kafka'; topic: string; partition: number; offset: string } | { kind: 'api' };

export const entityStreamName = (entityType: string, entityId: string): string => `entity-${entityType}-${entityId}`;
