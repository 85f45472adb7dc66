import { createHash, randomUUID } from 'node:crypto';

const NAMESPACE = 'lifeline/v1';

/**
 * A UUID derived from a name (RFC 4122 v5 layout over SHA-1), so a command repeated after a crash
 * produces the same event ids and the store's idempotent append recognises it.
 */
export function deterministicUuid(name: string): string {
  const hash = createHash('sha1').update(NAMESPACE).update('\u0000').update(name).digest();
  hash[6] = (hash[6] & 0x0f) | 0x50;
  hash[8] = (hash[8] & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

export const newUuid = (): string => randomUUID();

/** Event ids for the events one command appends: stable for a deterministic command id. */
export const eventIdsFor = (commandId: string, count: number, offset = 0): string[] =>
  Array.from({ length: count }, (_, i) => deterministicUuid(`${commandId}#${offset + i}`));

/** The instance a trigger starts: one per entity event and definition. */
export const instanceIdFor = (entityEventId: string, definitionKey: string): string =>
  deterministicUuid(`start:${definitionKey}:${entityEventId}`);

/** The store event id of a recorded envelope: the producer's id, made a UUID. */
export const entityEventStoreId = (envelopeId: string): string => deterministicUuid(`entity-event:${envelopeId}`);
