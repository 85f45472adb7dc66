import Database from 'better-sqlite3';
import { renameSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import type { StoredEvent } from '@lifeline/event-store';
import {
  allProjections,
  Projector,
  ReadModelDb,
  rebuildReadModels,
  type GlobalLog,
  type RebuildProgress,
  type RebuildResult,
  type Sql,
} from '@lifeline/read-models';
import { UnknownReadModel } from './errors';

export const readModelNames = (): string[] => allProjections().map((p) => p.name);

export interface ReadModelRebuild {
  /** The file to write (it must not exist or not be served). */
  targetFile: string;
  /** Rebuild only this read model; the others are copied from `current`. */
  readModel?: string;
  /** The served read-model file (a path) or its open connection; needed with `readModel`. */
  current?: string | Sql;
  onProgress?: RebuildProgress;
  batchSize?: number;
}

/**
 * Builds a complete read-model file from the global log. With `readModel`, the current file is
 * copied (VACUUM INTO, consistent even while served), that read model's tables and checkpoint are
 * dropped, and it alone is projected again from position 0.
 */
export async function rebuildReadModelFile(log: GlobalLog, request: ReadModelRebuild): Promise<RebuildResult> {
  if (request.readModel === undefined) {
    return rebuildReadModels(log, request.targetFile, request.onProgress, { batchSize: request.batchSize });
  }
  const projection = allProjections().find((p) => p.name === request.readModel);
  if (!projection) throw new UnknownReadModel(request.readModel, readModelNames());
  if (request.current === undefined)
    throw new Error('Rebuilding one read model needs the current file to copy the others from');
  const building = `${request.targetFile}.building`;
  ReadModelDb.remove(building);
  const started = performance.now();
  copyDatabase(request.current, building);
  const db = ReadModelDb.open(building, { bulk: true });
  let events = 0;
  let position = 0;
  try {
    dropTables(db.sql, projection.schema);
    db.sql.prepare('DELETE FROM projections_checkpoint WHERE name = ?').run(projection.name);
    // Every projection: the others skip what they have, and catch up on what arrived since the copy.
    const projector = new Projector(db, allProjections());
    const total = await log.headPosition();
    const batchSize = request.batchSize ?? 20_000;
    for (;;) {
      const batch: StoredEvent[] = await log.readAll(position, batchSize);
      if (batch.length === 0) break;
      projector.applyBatch(batch);
      events += batch.length;
      position = batch[batch.length - 1]!.position;
      const elapsed = performance.now() - started;
      request.onProgress?.(
        position,
        Math.max(total, position),
        position >= total ? 0 : Math.round((elapsed / position) * (total - position)),
      );
    }
    db.finishBulk();
  } finally {
    db.close();
  }
  ReadModelDb.remove(request.targetFile);
  renameSync(building, request.targetFile);
  const elapsedMs = performance.now() - started;
  return {
    file: request.targetFile,
    position,
    events,
    elapsedMs,
    eventsPerSecond: elapsedMs > 0 ? Math.round((events / elapsedMs) * 1000) : events,
  };
}

function copyDatabase(source: string | Sql, target: string): void {
  const sql = typeof source === 'string' ? new Database(source, { readonly: true, fileMustExist: true }) : source;
  try {
    sql.prepare('VACUUM INTO ?').run(target);
  } finally {
    if (typeof source === 'string') sql.close();
  }
}

const TABLE = /CREATE TABLE IF NOT EXISTS\s+([A-Za-z_][A-Za-z0-9_]*)/i;

function dropTables(sql: Sql, schema: string[]): void {
  for (const statement of schema) {
    const name = TABLE.exec(statement)?.[1];
    // Dropping a table drops its indexes; the projector re-creates both from the schema.
    if (name) sql.exec(`DROP TABLE IF EXISTS "${name}"`);
  }
}
