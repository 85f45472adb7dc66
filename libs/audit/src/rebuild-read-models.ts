import Database from 'better-sqlite3';
import {
  allProjections,
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
  const current = request.current;
  return rebuildReadModels(log, request.targetFile, request.onProgress, {
    batchSize: request.batchSize,
    seed: (building) => copyDatabase(current, building),
    prepare: (db) => {
      dropTables(db.sql, projection.schema);
      db.sql.prepare('DELETE FROM projections_checkpoint WHERE name = ?').run(projection.name);
    },
  });
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
