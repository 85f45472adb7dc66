import { hash } from 'node:crypto';
import type { EventStore, StoredEvent } from './event-store';

/**
 * The global chain (docs/decisions/0005-tamper-evidence.md): every event of the log is linked to the
 * event before it in position order, so a deleted event, a deleted stream or a rewritten hash breaks
 * a link even where every stream's own chain still holds.
 */

/** One link: the event at `position` follows the event at `prevPosition` (0: none before it). */
export interface LogLink {
  position: number;
  prevPosition: number;
  /** logLinkHash(hash of the link at prevPosition, or "" for the first link, position, prevPosition, event hash). */
  hash: string;
}

/** sha256 hex over the previous link's hash, both positions and the event's own (per-stream) hash. */
export function logLinkHash(prevHash: string, position: number, prevPosition: number, eventHash: string): string {
  return hash('sha256', `${prevHash}|${position}|${prevPosition}|${eventHash}`, 'hex');
}

/** The head of the global chain, as a signed anchor records it. */
export interface ChainHead {
  /** Position of the last event (0: empty log). */
  position: number;
  /** The chain's hash at that position ("" when no event up to it is chained: a store written before the chain). */
  globalHash: string;
  /** How many events the log holds at positions <= position, chained or not. */
  eventCount: number;
}

/** A store that keeps the global chain itself, written in the append transaction (SQLite). */
export interface StoredLogChain {
  /** Links of the events at positions in (afterPosition, upToPosition], in order; unchained events have none. */
  readLogLinks(afterPosition: number, upToPosition: number): Promise<LogLink[]>;
  /** The last event's position and its link's hash ("" when it has none). */
  logHead(): Promise<{ position: number; hash: string }>;
  /** How many events have positions in (afterPosition, upToPosition]. */
  countEvents(afterPosition: number, upToPosition: number): Promise<number>;
}

export function hasStoredLogChain<T extends object>(store: T): store is T & StoredLogChain {
  const candidate = store as Partial<StoredLogChain>;
  return (
    typeof candidate.readLogLinks === 'function' &&
    typeof candidate.logHead === 'function' &&
    typeof candidate.countEvents === 'function'
  );
}

/**
 * The global chain of a store that cannot keep one (EventStoreDB: many writers, no single order at
 * write time), computed by reading the log in the store's own order. The same links as a stored
 * chain that starts at the first event; resumable from a head computed earlier (a signed anchor).
 */
export class DerivedLogChain {
  private head: ChainHead;

  constructor(from: ChainHead = { position: 0, globalHash: '', eventCount: 0 }) {
    this.head = { ...from };
  }

  current(): ChainHead {
    return { ...this.head };
  }

  /** Adds one event, which must come after every event added so far. */
  add(event: StoredEvent): ChainHead {
    const eventHash = event.metadata.hash ?? '';
    this.head = {
      position: event.position,
      globalHash: logLinkHash(this.head.globalHash, event.position, this.head.position, eventHash),
      eventCount: this.head.eventCount + 1,
    };
    return this.head;
  }

  /** Reads the log from the current head to the end and returns the new head. */
  async advance(store: Pick<EventStore, 'readAll'>, batchSize = 1_000): Promise<ChainHead> {
    for (;;) {
      const page = await store.readAll(this.head.position, batchSize);
      for (const event of page) this.add(event);
      if (page.length < batchSize) return this.current();
    }
  }
}

/**
 * The chain head to anchor now. A stored chain answers directly; `since` (the last head this
 * writer anchored) lets the event count be added up from there instead of counted from the start.
 * Other stores derive the chain from `since` (which must then be a head of the derived chain).
 */
export async function currentChainHead(
  store: Pick<EventStore, 'readAll'>,
  since?: ChainHead,
  derived?: DerivedLogChain,
): Promise<ChainHead> {
  if (hasStoredLogChain(store)) {
    const head = await store.logHead();
    const incremental = since !== undefined && since.position > 0 && since.position <= head.position;
    const eventCount = incremental
      ? since.eventCount + (await store.countEvents(since.position, head.position))
      : await store.countEvents(0, head.position);
    return { position: head.position, globalHash: head.hash, eventCount };
  }
  return (derived ?? new DerivedLogChain(since)).advance(store);
}
