import { createHash, type Hash } from 'node:crypto';
import type { AppendRequest, EventMetadataIn, EventStore, StoredEvent } from './event-store';
import { canonicalJson } from './hash-chain';

export interface CopyHistoryOptions {
  /** Called after each committed batch with the events done so far (copied or already there) and the total. */
  onProgress?(copied: number, total: number): void;
  batchSize?: number;
}

export interface CopyHistoryResult {
  copied: number;
  /** Events already in the target (an earlier, interrupted run copied them). */
  skipped: number;
  sourceChecksum: string;
  targetChecksum: string;
}

/** Metadata fields each store writes itself: not part of the history being copied. */
const storeFields = new Set(['messageId', 'prevHash', 'hash']);

/**
 * Copies the whole global log of `from` into `to`, in order, keeping ids, streams, revisions, types,
 * data and metadata. Resumable: each target stream's revision says how much of it is already there,
 * and appends carry the exact expected revision, so a re-run continues where the last one stopped.
 * The source should be quiescent; events appended to it after the copy started are not copied.
 */
export async function copyHistory(
  from: EventStore,
  to: EventStore,
  options: CopyHistoryOptions = {},
): Promise<CopyHistoryResult> {
  const batchSize = options.batchSize ?? 500;
  const sourceHead = await from.headPosition();

  // First pass: the total for progress, and the checksum of exactly the range being copied.
  const sourceHash = createHash('sha256');
  let total = 0;
  await forEachBatch(from, sourceHead, batchSize, async (events) => {
    total += events.length;
    addToChecksum(sourceHash, events);
  });

  const targetRevisions = new Map<string, number>();
  const targetIsEmpty = (await to.headPosition()) === 0;
  const targetRevision = async (event: StoredEvent): Promise<number> => {
    const known = targetRevisions.get(event.streamId);
    if (known !== undefined) return known;
    const [last] = targetIsEmpty ? [] : await to.readStream(event.streamId, { direction: 'backwards', maxCount: 1 });
    const revision = last?.revision ?? -1;
    if (last !== undefined && revision >= event.revision) {
      const [same] = await to.readStream(event.streamId, { fromRevision: event.revision, maxCount: 1 });
      if (same?.id !== event.id) {
        throw new HistoryDiverged(event.streamId, event.revision, event.id, same?.id);
      }
    }
    targetRevisions.set(event.streamId, revision);
    return revision;
  };

  let copied = 0;
  let skipped = 0;
  await forEachBatch(from, sourceHead, batchSize, async (events) => {
    // Consecutive events of one stream go in one request; requests keep the global order.
    const requests: AppendRequest[] = [];
    let toCopy = 0;
    for (const event of events) {
      const revision = await targetRevision(event);
      if (event.revision <= revision) {
        skipped++;
        continue;
      }
      const copy = { id: event.id, type: event.type, data: event.data, metadata: historyMetadata(event) };
      const last = requests[requests.length - 1];
      if (last !== undefined && last.streamId === event.streamId) last.events.push(copy);
      else {
        requests.push({
          streamId: event.streamId,
          events: [copy],
          expectedRevision: event.revision === 0 ? 'no-stream' : event.revision - 1,
        });
      }
      targetRevisions.set(event.streamId, event.revision);
      toCopy++;
    }
    if (requests.length > 0) await to.appendMany(requests);
    copied += toCopy;
    options.onProgress?.(copied + skipped, total);
  });

  const targetHash = createHash('sha256');
  await forEachBatch(to, Number.MAX_SAFE_INTEGER, batchSize, async (events) => addToChecksum(targetHash, events));
  return { copied, skipped, sourceChecksum: sourceHash.digest('hex'), targetChecksum: targetHash.digest('hex') };
}

/** The target already holds a different event at a revision the source has: copying would fork history. */
export class HistoryDiverged extends Error {
  readonly code = 'STORE.HISTORY_DIVERGED';
  constructor(
    readonly streamId: string,
    readonly revision: number,
    readonly sourceEventId: string,
    readonly targetEventId: string | undefined,
  ) {
    super(
      `Stream ${streamId} revision ${revision}: source has ${sourceEventId}, target has ${targetEventId ?? 'nothing'}`,
    );
    this.name = 'HistoryDiverged';
  }
}

/** The event as history, without the fields a store writes itself (position, messageId, hash chain). */
export function canonicalHistoryEvent(event: StoredEvent): string {
  return canonicalJson({
    id: event.id,
    streamId: event.streamId,
    revision: event.revision,
    type: event.type,
    data: event.data,
    metadata: historyMetadata(event),
  });
}

function historyMetadata(event: StoredEvent): EventMetadataIn {
  const source = event.metadata as unknown as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(source)) {
    if (!storeFields.has(key)) out[key] = source[key];
  }
  return out as unknown as EventMetadataIn;
}

function addToChecksum(hash: Hash, events: StoredEvent[]): void {
  for (const event of events) hash.update(canonicalHistoryEvent(event) + '\n');
}

async function forEachBatch(
  store: EventStore,
  upTo: number,
  batchSize: number,
  handle: (events: StoredEvent[]) => Promise<void>,
): Promise<void> {
  let cursor = 0;
  for (;;) {
    const page = await store.readAll(cursor, batchSize);
    const events = page.filter((e) => e.position <= upTo);
    if (events.length > 0) await handle(events);
    if (events.length < page.length || page.length < batchSize) return;
    cursor = page[page.length - 1]!.position;
  }
}
