import { WrongExpectedRevision, type EventMetadataIn, type ExpectedRevision } from './event-store';

/** Rules every adapter applies the same way, so they all pass the same contract. */

export class EventStoreClosed extends Error {
  readonly code = 'STORE.CLOSED';
  constructor() {
    super('The event store is closed');
    this.name = 'EventStoreClosed';
  }
}

/** Throws WrongExpectedRevision unless the stream's current revision (-1: no stream) is the expected one. */
export function checkExpectedRevision(streamId: string, expected: ExpectedRevision, current: number): void {
  if (expected === 'any') return;
  const wanted = expected === 'no-stream' ? -1 : expected;
  if (wanted !== current) throw new WrongExpectedRevision(streamId, expected, current);
}

/** Fields of the stored metadata the store owns: a caller's values for them are replaced. */
const storeOwnedFields = new Set(['messageId', 'prevHash', 'hash']);

/** The caller's metadata with messageId set to the event id (chain fields are added later). */
export function ownMetadata(eventId: string, metadata: EventMetadataIn): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const source = metadata as unknown as Record<string, unknown>;
  for (const key of Object.keys(source)) {
    if (!storeOwnedFields.has(key)) out[key] = source[key];
  }
  out.messageId = eventId;
  return out;
}
