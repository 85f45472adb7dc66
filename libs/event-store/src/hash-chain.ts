import { hash } from 'node:crypto';
import type { StoredEvent } from './event-store';

/**
 * Canonical JSON: JSON.stringify semantics (toJSON, undefined dropped in objects and null in arrays,
 * non-finite numbers as null) with object keys sorted recursively and no whitespace, so the same
 * value always gives the same text whichever store wrote it and in which key order.
 */
export function canonicalJson(value: unknown): string {
  const text = canonicalOrUndefined(value);
  return text === undefined ? 'null' : text;
}

/** Printable ASCII without `"` and `\\`: JSON quotes these strings as they are. */
const plainString = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;

function quote(text: string): string {
  return plainString.test(text) ? '"' + text + '"' : JSON.stringify(text);
}

/**
 * `"key":` by key: the same keys come back in every event, and quoting one anew costs a regex test
 * and two concatenations. Bounded, since keys of entity data come from outside.
 */
const quotedKeys = new Map<string, string>();
const QUOTED_KEYS_LIMIT = 4_096;
const QUOTED_KEY_MAX_LENGTH = 64;

function quotedKey(key: string): string {
  let quoted = quotedKeys.get(key);
  if (quoted === undefined) {
    quoted = quote(key) + ':';
    if (quotedKeys.size < QUOTED_KEYS_LIMIT && key.length <= QUOTED_KEY_MAX_LENGTH) quotedKeys.set(key, quoted);
  }
  return quoted;
}

function canonicalOrUndefined(value: unknown): string | undefined {
  // Most common kinds first: this runs for every field of every appended event.
  if (typeof value === 'string') return quote(value);
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : 'null';
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (value === null) return 'null';
  if (typeof value === 'bigint') throw new TypeError('A bigint cannot be stored as JSON');
  if (typeof value !== 'object') return undefined;
  if (typeof (value as { toJSON?: unknown }).toJSON === 'function') {
    return canonicalOrUndefined((value as { toJSON: () => unknown }).toJSON());
  }
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) {
      if (i > 0) out += ',';
      out += canonicalOrUndefined(value[i]) ?? 'null';
    }
    return out + ']';
  }
  if (value instanceof Number || value instanceof String || value instanceof Boolean) {
    return canonicalOrUndefined(value.valueOf());
  }
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record);
  for (let i = 1; i < keys.length; i++) {
    if (keys[i - 1]! > keys[i]!) {
      keys.sort();
      break;
    }
  }
  let out = '{';
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i]!;
    const text = canonicalOrUndefined(record[key]);
    if (text === undefined) continue;
    out += out.length === 1 ? quotedKey(key) + text : ',' + quotedKey(key) + text;
  }
  return out + '}';
}

/**
 * canonicalJson({ ...record without the `skip` keys, [key]: value }) for string values, split around
 * the value: `head + quote(value) + tail`. The events of one append share their metadata object, so
 * its fields are canonicalised once and only the event id changes. Undefined when the record is one
 * canonicalJson treats otherwise (a toJSON of its own).
 */
export function canonicalAround(
  record: Readonly<Record<string, unknown>>,
  key: string,
  skip: ReadonlySet<string>,
): { head: string; tail: string } | undefined {
  const keys = Object.keys(record).filter((k) => !skip.has(k));
  if (keys.includes('toJSON')) return undefined;
  keys.push(key);
  keys.sort();
  let head = '{';
  let tail = '';
  let after = false;
  for (const k of keys) {
    if (k === key) {
      head += head.length === 1 ? quotedKey(k) : ',' + quotedKey(k);
      after = true;
      continue;
    }
    const text = canonicalOrUndefined(record[k]);
    if (text === undefined) continue;
    if (after) tail += ',' + quotedKey(k) + text;
    else head += head.length === 1 ? quotedKey(k) + text : ',' + quotedKey(k) + text;
  }
  return { head, tail: tail + '}' };
}

/** The quoted JSON string of `text`, as canonicalJson writes it. */
export const quoteJson = (text: string): string => quote(text);

/** Metadata fields the store writes itself; the hash never covers the chain fields. */
const chainFields = new Set(['prevHash', 'hash']);

/** The metadata an event's hash covers: everything but prevHash and hash. */
export function hashedMetadata(metadata: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(metadata)) {
    if (!chainFields.has(key)) out[key] = metadata[key];
  }
  return out;
}

export interface HashedEventContent {
  id: string;
  streamId: string;
  revision: number;
  type: string;
  data: unknown;
  /** Without prevHash and hash (see hashedMetadata). */
  metadata: unknown;
}

/**
 * Canonical JSON of {id, streamId, revision, type, data, metadata}, built from already-canonical
 * data and metadata so the append path canonicalises each payload once.
 */
export function canonicalEventText(
  id: string,
  streamId: string,
  revision: number,
  type: string,
  canonicalData: string,
  canonicalMetadata: string,
): string {
  // Keys in sorted order: data, id, metadata, revision, streamId, type.
  return (
    '{"data":' +
    canonicalData +
    ',"id":' +
    quote(id) +
    ',"metadata":' +
    canonicalMetadata +
    ',"revision":' +
    String(revision) +
    ',"streamId":' +
    quote(streamId) +
    ',"type":' +
    quote(type) +
    '}'
  );
}

/** sha256 hex of prevHash + canonical JSON of the event's hashed content. */
export function eventHash(prevHash: string, canonicalEvent: string): string {
  return hash('sha256', prevHash + canonicalEvent, 'hex');
}

/** The hash an event should carry, given the previous event's hash ("" for revision 0). */
export function computeEventHash(prevHash: string, event: HashedEventContent): string {
  return eventHash(
    prevHash,
    canonicalEventText(
      event.id,
      event.streamId,
      event.revision,
      event.type,
      canonicalJson(event.data),
      canonicalJson(event.metadata),
    ),
  );
}

export type StreamVerification = { ok: true } | { ok: false; revision: number; eventId: string; reason: string };

/** Why a stream's chain does not hold at one event. */
export type StreamBreak =
  /** The event's content does not match its own hash (it was edited after it was written). */
  | 'edited'
  /** Revisions are missing before it (events of the stream were deleted). */
  | 'deleted'
  /** Its prevHash, revision or stream does not follow the previous event of the stream. */
  | 'relinked';

/** The previous event of a stream as the chain saw it: `undefined` before revision 0. */
export interface StreamTail {
  streamId: string;
  revision: number;
  hash: string;
}

/**
 * Checks one event against the previous event of its stream (`undefined` for the first): the
 * revision follows, prevHash is the previous hash, and the hash matches the content.
 */
export function checkStreamEvent(
  previous: StreamTail | undefined,
  event: StoredEvent,
): { kind: StreamBreak; reason: string } | undefined {
  const expectedRevision = previous === undefined ? 0 : previous.revision + 1;
  if (previous !== undefined && event.streamId !== previous.streamId) {
    return { kind: 'relinked', reason: `event of another stream (${event.streamId})` };
  }
  if (event.revision !== expectedRevision) {
    return {
      kind: event.revision > expectedRevision ? 'deleted' : 'relinked',
      reason: `expected revision ${expectedRevision}, found ${event.revision}`,
    };
  }
  const metadata = event.metadata as unknown as Record<string, unknown>;
  if (typeof metadata.hash !== 'string' || typeof metadata.prevHash !== 'string') {
    return { kind: 'edited', reason: 'hash-chain fields missing from metadata' };
  }
  if (metadata.prevHash !== (previous?.hash ?? '')) {
    return { kind: 'relinked', reason: 'prevHash does not match the previous event hash' };
  }
  if (!matchesOwnHash(event)) return { kind: 'edited', reason: 'hash does not match the event content' };
  return undefined;
}

/** Whether the event's content, with its own prevHash, gives its own hash (no look at other events). */
export function matchesOwnHash(event: StoredEvent): boolean {
  const metadata = event.metadata as unknown as Record<string, unknown>;
  if (typeof metadata.hash !== 'string' || typeof metadata.prevHash !== 'string') return false;
  const expected = computeEventHash(metadata.prevHash, {
    id: event.id,
    streamId: event.streamId,
    revision: event.revision,
    type: event.type,
    data: event.data,
    metadata: hashedMetadata(metadata),
  });
  return metadata.hash === expected;
}

/**
 * Checks a stream's hash chain: revisions 0..n-1 in order, each prevHash equal to the previous
 * event's hash, each hash equal to the recomputed one. Pass the whole stream, forwards.
 */
export function verifyStream(events: StoredEvent[]): StreamVerification {
  let previous: StreamTail | undefined;
  for (const event of events) {
    const broken = checkStreamEvent(previous, event);
    if (broken !== undefined) return { ok: false, revision: event.revision, eventId: event.id, reason: broken.reason };
    previous = { streamId: event.streamId, revision: event.revision, hash: event.metadata.hash as string };
  }
  return { ok: true };
}
