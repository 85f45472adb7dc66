import { verifyStream, type EventStore } from '@lifeline/event-store';

/** The first event of a stream whose hash-chain link does not hold. */
export interface BrokenLink {
  streamId: string;
  revision: number;
  eventId: string;
  reason: string;
}

export interface HistoryVerification {
  ok: boolean;
  streams: number;
  events: number;
  /** One entry per broken stream (its first broken link), in the order streams first appear in the log. */
  broken: BrokenLink[];
}

export interface VerifyOptions {
  /** Only this stream; otherwise every stream of the store. */
  streamId?: string;
  batchSize?: number;
  onProgress?: (streamsDone: number, streamsTotal: number) => void;
}

type ReadableStore = Pick<EventStore, 'readAll' | 'readStream'>;

/** Checks the hash chain of one stream or of every stream in the store (tamper evidence). */
export async function verifyHistory(store: ReadableStore, options: VerifyOptions = {}): Promise<HistoryVerification> {
  const streamIds =
    options.streamId !== undefined ? [options.streamId] : await allStreamIds(store, options.batchSize ?? 5_000);
  const broken: BrokenLink[] = [];
  let events = 0;
  for (const [index, streamId] of streamIds.entries()) {
    const stream = await store.readStream(streamId);
    events += stream.length;
    const result = verifyStream(stream);
    if (!result.ok)
      broken.push({ streamId, revision: result.revision, eventId: result.eventId, reason: result.reason });
    options.onProgress?.(index + 1, streamIds.length);
  }
  if (options.streamId !== undefined && events === 0) {
    broken.push({ streamId: options.streamId, revision: -1, eventId: '', reason: 'no such stream' });
  }
  return { ok: broken.length === 0, streams: streamIds.length, events, broken };
}

/** Every stream id, in the order of its first event in the global log. */
async function allStreamIds(store: ReadableStore, batchSize: number): Promise<string[]> {
  const seen = new Set<string>();
  let cursor = 0;
  for (;;) {
    const page = await store.readAll(cursor, batchSize);
    if (page.length === 0) break;
    for (const event of page) seen.add(event.streamId);
    cursor = page[page.length - 1]!.position;
    if (page.length < batchSize) break;
  }
  return [...seen];
}
