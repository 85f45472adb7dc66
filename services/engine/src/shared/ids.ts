import { hash, randomUUID } from 'node:crypto';

const NAMESPACE = 'lifeline/v1';

/** The SHA-1 of a name in the namespace, as 40 hex digits (hex output: no Buffer to allocate and convert). */
const digestHex = (name: string): string => hash('sha1', `${NAMESPACE}\u0000${name}`, 'hex');

/**
 * The id as one flat string: a template of seven parts is a tree of V8 cons strings, each a heap
 * object kept as long as the id is; reading a character flattens it once, here, not at every use.
 */
function flat(id: string): string {
  id.charCodeAt(0);
  return id;
}

/** The RFC 4122 variant nibble (10xx) from a hex digit: its low two bits kept. */
const VARIANT: Readonly<Record<string, string>> = Object.fromEntries(
  [...'0123456789abcdef'].map((digit, value) => [digit, (8 | (value & 3)).toString(16)]),
);

/**
 * A UUID derived from a name (RFC 4122 v5 layout over SHA-1), so a command repeated after a crash
 * produces the same event ids and the store's idempotent append recognises it.
 */
export function deterministicUuid(name: string): string {
  const h = digestHex(name);
  return flat(
    `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${VARIANT[h[16]!]}${h.slice(17, 20)}-${h.slice(20, 32)}`,
  );
}

/** The last time turned into an id prefix: the ids of one command (and one batch) share it. */
let lastAt: string | number | undefined;
let lastPrefix = '';

/** The 48-bit millisecond part of a time-ordered id, as `xxxxxxxx-xxxx-`. */
function timePrefix(at: string | number): string {
  if (at === lastAt) return lastPrefix;
  const ms = typeof at === 'number' ? at : Date.parse(at);
  const time = Math.max(0, Math.min(Number.isFinite(ms) ? ms : 0, 2 ** 48 - 1))
    .toString(16)
    .padStart(12, '0');
  lastAt = at;
  lastPrefix = `${time.slice(0, 8)}-${time.slice(8, 12)}-`;
  return lastPrefix;
}

/**
 * A time-ordered UUID (v7 layout): 48 bits of milliseconds since the epoch, then bits of SHA-1 of
 * the name. The same name and time always give the same id, so a command repeated after a crash
 * (its time taken from the event that caused it, which is in the log) still appends nothing twice;
 * ids of one moment sort together, so index inserts land at the end of an index instead of all over
 * it (the store and the read models index event, instance and task ids).
 */
export function timeOrderedUuid(name: string, at: string | number): string {
  const h = digestHex(name);
  return flat(`${timePrefix(at)}7${h.slice(13, 16)}-${VARIANT[h[16]!]}${h.slice(17, 20)}-${h.slice(20, 32)}`);
}

export const newUuid = (): string => randomUUID();

/**
 * Event ids for the events one command appends: stable for a deterministic command id and time
 * (`at`: when the event that caused the command was recorded; a user's command uses its own time).
 */
export function eventIdsFor(commandId: string, count: number, offset = 0, at?: string): string[] {
  const ids = new Array<string>(count);
  for (let i = 0; i < count; i++) {
    const name = `${commandId}#${offset + i}`;
    ids[i] = at === undefined ? deterministicUuid(name) : timeOrderedUuid(name, at);
  }
  return ids;
}

/**
 * The instance a trigger starts: one per entity event and definition, ordered by when the entity
 * event was recorded (the reactions decider names it `start:<key>:<envelope id>`).
 */
export const instanceIdFor = (entityEventId: string, definitionKey: string, recordedAt: string): string =>
  timeOrderedUuid(`start:${definitionKey}:${entityEventId}`, recordedAt);

/** The store event id of a recorded envelope: the producer's id, made a UUID (the same id twice is recorded once). */
export const entityEventStoreId = (envelopeId: string): string => deterministicUuid(`entity-event:${envelopeId}`);
