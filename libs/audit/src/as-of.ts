import type { StoredEvent } from '@lifeline/event-store';
import { isIsoDateTimeWithZone } from '@lifeline/process-domain';
import { allProjections, Projector, ReadModelDb, type GlobalLog, type Sql } from '@lifeline/read-models';
import { AsOfInvalid, AsOfTooLarge } from './errors';

/** A point in history: a global position (inclusive) or an instant (events recorded at or before it). */
export type AsOf = { kind: 'position'; position: number } | { kind: 'time'; at: string };

/** Above this many events an as-of view is refused: it is rebuilt in memory inside one request. */
export const MAX_AS_OF_EVENTS = 1_000_000;

/** `12345` is a position; `2026-11-21T10:00:00Z` an instant. */
export function parseAsOf(text: string): AsOf {
  const trimmed = text.trim();
  if (/^\d{1,15}$/.test(trimmed)) return { kind: 'position', position: Number(trimmed) };
  // Strict: Date.parse alone reads 2026-02-31 as March 3rd and T24:00 as the next day.
  if (isIsoDateTimeWithZone(trimmed)) {
    return { kind: 'time', at: new Date(Date.parse(trimmed)).toISOString() };
  }
  throw new AsOfInvalid(`asOf must be a global position (integer) or an ISO-8601 instant, not ${JSON.stringify(text)}`);
}

/** The read models as they were at one point, in memory; close it after the queries. */
export interface ReadModelsAsOf {
  sql: Sql;
  /** The last global position applied. */
  position: number;
  /** The instant to run queries with (postponed and overdue are relative to it). */
  now: string;
  events: number;
  close(): void;
}

export interface AsOfOptions {
  maxEvents?: number;
  batchSize?: number;
}

/**
 * Rebuilds every read model from the log up to `asOf` into an in-memory database, with the same
 * projections the API serves, so the same queries answer "as it was then".
 */
export async function readModelsAsOf(log: GlobalLog, asOf: AsOf, options: AsOfOptions = {}): Promise<ReadModelsAsOf> {
  const limit = options.maxEvents ?? MAX_AS_OF_EVENTS;
  const batchSize = options.batchSize ?? 5_000;
  const head = await log.headPosition();
  const upTo = asOf.kind === 'position' ? Math.min(asOf.position, head) : head;
  const at = asOf.kind === 'time' ? Date.parse(asOf.at) : Number.POSITIVE_INFINITY;
  const db = ReadModelDb.open(':memory:');
  try {
    const projector = new Projector(db, allProjections());
    let cursor = 0;
    let events = 0;
    let position = 0;
    let lastAt: string | undefined;
    while (cursor < upTo) {
      const page = await log.readAll(cursor, batchSize);
      if (page.length === 0) break;
      cursor = page[page.length - 1]!.position;
      const batch: StoredEvent[] = [];
      for (const event of page) {
        if (event.position > upTo) break;
        // Clocks of several writers may disagree a little, so time is filtered event by event, not by a cut-off.
        if (Date.parse(event.metadata.at) > at) continue;
        batch.push(event);
      }
      if (batch.length === 0) continue;
      events += batch.length;
      // Counted, not derived from positions: EventStoreDB positions are byte offsets, not event numbers.
      if (events > limit) throw new AsOfTooLarge(events, limit);
      projector.applyBatch(batch);
      position = batch[batch.length - 1]!.position;
      lastAt = batch[batch.length - 1]!.metadata.at;
    }
    const now = asOf.kind === 'time' ? asOf.at : (lastAt ?? new Date(0).toISOString());
    return { sql: db.sql, position, now, events, close: () => db.close() };
  } catch (error) {
    db.close();
    throw error;
  }
}
