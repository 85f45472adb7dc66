import { WrongExpectedRevision, type EventMetadataIn, type ExpectedRevision } from './event-store';
import { canonicalAround, canonicalJson, quoteJson } from './hash-chain';

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

/**
 * canonicalJson(ownMetadata(eventId, metadata)), for the events of one append: the fields of a
 * metadata object are canonicalised once, since an append's events share it. Use one per append
 * (a caller may change its metadata object between appends).
 */
export class OwnMetadataText {
  private source: EventMetadataIn | undefined;
  private around: { head: string; tail: string } | undefined;

  of(eventId: string, metadata: EventMetadataIn): string {
    if (metadata !== this.source) {
      this.source = metadata;
      this.around =
        typeof eventId === 'string'
          ? canonicalAround(metadata as unknown as Record<string, unknown>, 'messageId', storeOwnedFields)
          : undefined;
    }
    const around = this.around;
    if (around === undefined || typeof eventId !== 'string') return canonicalJson(ownMetadata(eventId, metadata));
    return around.head + quoteJson(eventId) + around.tail;
  }
}

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
