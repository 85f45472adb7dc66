import { renameSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import type { EventStore, StoredEvent } from '@lifeline/event-store';
import { allProjections } from './projections';
import { Projector, ReadModelDb, type Projection } from './read-model-db';

/** A rebuild only reads the global log. */
export type GlobalLog = Pick<EventStore, 'readAll' | 'headPosition'>;

/** `done` and `total` are global positions (the log's head when the rebuild began). */
export type RebuildProgress = (done: number, total: number, etaMs: number) => void;

export interface RebuildOptions {
  batchSize?: number;
  projections?: Projection[];
  /** Writes the file to build on at `building` (a copy of the served one) instead of starting from an empty one. */
  seed?: (building: string) => void;
  /** Runs on the opened file before the log is projected (drops the tables of the read model to rebuild). */
  prepare?: (db: ReadModelDb) => void;
}

export interface RebuildResult {
  file: string;
  position: number;
  events: number;
  elapsedMs: number;
  eventsPerSecond: number;
}

/**
 * Builds a complete read-model file from the whole global log. It is written beside the target
 * and renamed onto it only when complete, so nobody ever opens a half-built file. The target must
 * not be the file being served: build a new name, then `ReadModels.switchTo` it. On a `seed`ed file,
 * each projection skips what its checkpoint says it has.
 */
export async function rebuildReadModels(
  store: GlobalLog,
  targetFile: string,
  onProgress?: RebuildProgress,
  options: RebuildOptions = {},
): Promise<RebuildResult> {
  const batchSize = options.batchSize ?? 20_000;
  const building = `${targetFile}.building`;
  ReadModelDb.remove(building);
  const started = performance.now();
  options.seed?.(building);
  const db = ReadModelDb.open(building, { bulk: true });
  let events = 0;
  let position = 0;
  try {
    options.prepare?.(db);
    const projector = new Projector(db, options.projections ?? allProjections(), { deferQueryIndexes: true });
    const total = await store.headPosition();
    let next: Promise<StoredEvent[]> = store.readAll(0, batchSize);
    for (;;) {
      const batch = await next;
      if (batch.length === 0) break;
      position = batch[batch.length - 1]!.position;
      // Read the next batch while this one is applied.
      next = store.readAll(position, batchSize);
      projector.applyBatch(batch);
      events += batch.length;
      if (onProgress) {
        const elapsed = performance.now() - started;
        const eta = position >= total ? 0 : (elapsed / position) * (total - position);
        onProgress(position, Math.max(total, position), Math.round(eta));
      }
    }
    projector.createQueryIndexes();
    db.sql.pragma('optimize');
    db.finishBulk();
  } finally {
    db.close();
  }
  ReadModelDb.remove(targetFile);
  renameSync(building, targetFile);
  const elapsedMs = performance.now() - started;
  return {
    file: targetFile,
    position,
    events,
    elapsedMs,
    eventsPerSecond: elapsedMs > 0 ? Math.round((events / elapsedMs) * 1000) : events,
  };
}
