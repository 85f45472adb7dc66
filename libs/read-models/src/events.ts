import { type StoredEvent, canonicalJson } from '@lifeline/event-store';
import { type LifelineEvent, decodeEvent, EVENT_TYPES } from '@lifeline/process-domain';

/** The stored event read as the catalogue's union (the store keeps `data` untyped). */
export function asLifelineEvent(event: StoredEvent): LifelineEvent {
  // A type this version does not know (written by a newer one) reads as no event any projection handles.
  if (!EVENT_TYPES.has(event.type)) return { type: event.type, data: {} } as unknown as LifelineEvent;
  return decodeEvent(event);
}

const INSTANCE_PREFIX = 'instance-';

/** The instance id of an `instance-<id>` stream, or undefined for other streams. */
export function instanceIdOf(streamId: string): string | undefined {
  return streamId.startsWith(INSTANCE_PREFIX) ? streamId.slice(INSTANCE_PREFIX.length) : undefined;
}

/**
 * JSON for a nullable column: undefined becomes SQL NULL. Canonical (keys sorted), so a row is the
 * same whether the event came from memory (applied inline) or from the store (rebuilt).
 */
export function json(value: unknown): string | null {
  return value === undefined ? null : canonicalJson(value);
}

export function parseJson<T>(text: string | null): T | undefined {
  return text === null ? undefined : (JSON.parse(text) as T);
}
