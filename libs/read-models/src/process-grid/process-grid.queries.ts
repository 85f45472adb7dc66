import type { z } from 'zod';
import type { DEFINITION_ROW, DEFINITION_VERSION_ROW, DEFINITION_DETAILS } from '../results';
import { type ProcessDefinition, type Trigger, type Actor, mayStartByHand } from '@lifeline/process-domain';
import type { Sql } from '../read-model-db';
import { cachedStatement } from '../statement-cache';

export type DefinitionRow = z.infer<typeof DEFINITION_ROW>;

export type DefinitionVersionRow = z.infer<typeof DEFINITION_VERSION_ROW>;

export type DefinitionDetails = z.infer<typeof DEFINITION_DETAILS>;

/** One published version as the BPMN export needs it: the definition, and the BPMN text it was published as. */
export interface DefinitionVersionSource {
  version: number;
  definition: ProcessDefinition;
  /** The published XML when the version was published as BPMN; absent for YAML or JSON. */
  bpmn?: string;
}

/** A published text is BPMN when it is XML (YAML and JSON never start with `<`). */
export const isBpmnText = (text: string): boolean => text.trimStart().startsWith('<');

export interface DefinitionFilter {
  relatedEntity?: string;
  enabled?: boolean;
  /** Only those this actor may start by hand now (enabled, and a startableBy role or admin). */
  startableBy?: Actor;
}

interface DefinitionRecord {
  key: string;
  name: string;
  related_entity: string;
  execution_order: number;
  enabled: number;
  created_at: string;
  updated_at: string;
  version: number;
  triggers: string;
  definition: string;
  startable_by: string | null;
  running: number;
  open_tasks: number;
}

function toRow(record: DefinitionRecord): DefinitionRow {
  return {
    key: record.key,
    name: record.name,
    relatedEntity: record.related_entity,
    executionOrder: record.execution_order,
    enabled: record.enabled === 1,
    createdAt: record.created_at,
    updatedAt: record.updated_at,
    version: record.version,
    triggers: JSON.parse(record.triggers) as Trigger[],
    startableBy: record.startable_by === null ? [] : (JSON.parse(record.startable_by) as string[]),
    running: record.running,
    openTasks: record.open_tasks,
  };
}

/** The process grid, in execution order then key. */
export function listDefinitions(db: Sql, filter: DefinitionFilter = {}): DefinitionRow[] {
  const where: string[] = [];
  const params: Record<string, string | number> = {};
  if (filter.relatedEntity !== undefined) {
    where.push('related_entity = @relatedEntity');
    params.relatedEntity = filter.relatedEntity;
  }
  // A deactivated definition cannot be started by hand.
  const enabled = filter.startableBy !== undefined ? true : filter.enabled;
  if (enabled !== undefined) {
    where.push('enabled = @enabled');
    params.enabled = enabled ? 1 : 0;
  }
  const text =
    `SELECT *, ${STARTABLE_BY} FROM definitions` +
    (where.length ? ` WHERE ${where.join(' AND ')}` : '') +
    ' ORDER BY execution_order, key';
  const rows = (cachedStatement(db, text).all(params) as DefinitionRecord[]).map(toRow);
  const actor = filter.startableBy;
  return actor ? rows.filter((row) => mayStartByHand(row, actor)) : rows;
}

/** The latest document's startableBy, read from the stored document (no column of its own, so no rebuild). */
const STARTABLE_BY = "json_extract(definition, '$.startableBy') AS startable_by";

/** One definition with its latest document and every published version (oldest first). */
/** A version of a definition (the latest when `version` is absent); undefined: no such definition or version. */
export function getDefinitionVersion(db: Sql, key: string, version?: number): DefinitionVersionSource | undefined {
  const row = (
    version === undefined
      ? cachedStatement(
          db,
          'SELECT version, definition, source FROM definition_versions WHERE key = ? ORDER BY version DESC LIMIT 1',
        ).get(key)
      : cachedStatement(
          db,
          'SELECT version, definition, source FROM definition_versions WHERE key = ? AND version = ?',
        ).get(key, version)
  ) as { version: number; definition: string; source: string | null } | undefined;
  if (!row) return undefined;
  return {
    version: row.version,
    definition: JSON.parse(row.definition) as ProcessDefinition,
    ...(row.source !== null ? { bpmn: row.source } : {}),
  };
}

export function getDefinition(db: Sql, key: string): DefinitionDetails | undefined {
  const record = cachedStatement(db, `SELECT *, ${STARTABLE_BY} FROM definitions WHERE key = ?`).get(key) as
    DefinitionRecord | undefined;
  if (!record) return undefined;
  const versions = cachedStatement(
    db,
    'SELECT version, published_at, definition FROM definition_versions WHERE key = ? ORDER BY version',
  ).all(key) as { version: number; published_at: string; definition: string }[];
  return {
    ...toRow(record),
    definition: JSON.parse(record.definition) as ProcessDefinition,
    versions: versions.map((v) => ({
      version: v.version,
      publishedAt: v.published_at,
      definition: JSON.parse(v.definition) as ProcessDefinition,
    })),
  };
}
