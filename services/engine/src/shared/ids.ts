import { hash, randomUUID } from 'node:crypto';

const NAMESPACE = 'lifeline/v1';

/**
 * A UUID derived from a name (RFC 4122 v5 layout over SHA-1), so a command repeated after a crash
 * produces the same event ids and the store's idempotent append recognises it.
 */
export function deterministicUuid(name: string): string {
  const digest = hash('sha1', `${NAMESPACE}\u0000${name}`, 'buffer');
  digest[6] = (digest[6]! & 0x0f) | 0x50;
  digest[8] = (digest[8]! & 0x3f) | 0x80;
  return format(digest.toString('hex'));
}

/**
 * A time-ordered UUID (v7 layout): 48 bits of milliseconds since the epoch, then bits of SHA-1 of
 * the name. The same name and time always give the same id, so a command repeated after a crash
 * (its time taken from the event that caused it, which is in the log) still appends nothing twice;
 * ids of one moment sort together, so index inserts land at the end of an index instead of all over
 * it (the store and the read models index event, instance and task ids).
 */
export function timeOrderedUuid(name: string, at: string | number): string {
  const ms = typeof at === 'number' ? at : Date.parse(at);
  const time = Math.max(0, Math.min(Number.isFinite(ms) ? ms : 0, 2 ** 48 - 1))
    .toString(16)
    .padStart(12, '0');
  const digest = hash('sha1', `${NAMESPACE}\u0000${name}`, 'buffer');
  digest[6] = (digest[6]! & 0x0f) | 0x70;
  digest[8] = (digest[8]! & 0x3f) | 0x80;
  return format(time + digest.toString('hex').slice(12, 32));
}

const format = (hex: string): string =>
  `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;

export const newUuid = (): string => randomUUID();

/**
 * Event ids for the events one command appends: stable for a deterministic command id and time
 * (`at`: when the event that caused the command was recorded; a user's command uses its own time).
 */
export const eventIdsFor = (commandId: string, count: number, offset = 0, at?: string): string[] =>
  Array.from({ length: count }, (_, i) =>
    at === undefined
      ? deterministicUuid(`${commandId}#${offset + i}`)
      : timeOrderedUuid(`${commandId}#${offset + i}`, at),
  );

/**
 * The instance a trigger starts: one per entity event and definition, ordered by when the entity
 * event was recorded (the reactions decider names it `start:<key>:<envelope id>`).
 */
export const instanceIdFor = (entityEventId: string, definitionKey: string, recordedAt: string): string =>
  timeOrderedUuid(`start:${definitionKey}:${entityEventId}`, recordedAt);

/** The store event id of a recorded envelope: the producer's id, made a UUID (the same id twice is recorded once). */
export const entityEventStoreId = (envelopeId: string): string => deterministicUuid(`entity-event:${envelopeId}`);
