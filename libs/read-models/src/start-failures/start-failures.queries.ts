import type { z } from 'zod';
import type { START_FAILURE_ROW } from '../results';
import type { StartStage } from '@lifeline/process-domain';
import type { Sql } from '../read-model-db';
import { cachedStatement } from '../statement-cache';

export type StartFailureStatus = 'open' | 'retried';

export type StartFailureRow = z.infer<typeof START_FAILURE_ROW>;

export interface StartFailureFilter {
  status?: StartFailureStatus;
  definitionKey?: string;
  entityType?: string;
  entityId?: string;
  limit?: number;
  offset?: number;
}

interface StartFailureRecord {
  failure_id: string;
  position: number;
  entity_type: string;
  entity_id: string;
  definition_key: string;
  definition_version: number;
  entity_event_id: string;
  stage: StartStage;
  instance_id: string;
  code: string;
  message: string;
  failed_at: string;
  status: StartFailureStatus;
  retry: string | null;
}

export const DEFAULT_START_FAILURE_PAGE = 50;
export const MAX_START_FAILURE_PAGE = 500;

const toRow = (r: StartFailureRecord): StartFailureRow => ({
  failureId: r.failure_id,
  position: r.position,
  entity: { type: r.entity_type, id: r.entity_id },
  definitionKey: r.definition_key,
  definitionVersion: r.definition_version,
  entityEventId: r.entity_event_id,
  stage: r.stage,
  instanceId: r.instance_id,
  code: r.code,
  message: r.message,
  failedAt: r.failed_at,
  status: r.status,
  retry: r.retry === null ? null : (JSON.parse(r.retry) as StartFailureRow['retry']),
});

/** Failed starts, newest first. */
export function listStartFailures(db: Sql, filter: StartFailureFilter = {}): StartFailureRow[] {
  const where: string[] = [];
  const params: Record<string, string | number> = {};
  for (const [column, value] of [
    ['status', filter.status],
    ['definition_key', filter.definitionKey],
    ['entity_type', filter.entityType],
    ['entity_id', filter.entityId],
  ] as const) {
    if (value === undefined) continue;
    where.push(`${column} = @${column}`);
    params[column] = value;
  }
  params.limit = Math.min(Math.max(Math.trunc(filter.limit ?? DEFAULT_START_FAILURE_PAGE), 1), MAX_START_FAILURE_PAGE);
  params.offset = Math.max(Math.trunc(filter.offset ?? 0), 0);
  const text =
    'SELECT * FROM start_failures' +
    (where.length ? ` WHERE ${where.join(' AND ')}` : '') +
    ' ORDER BY position DESC LIMIT @limit OFFSET @offset';
  return (cachedStatement(db, text).all(params) as StartFailureRecord[]).map(toRow);
}

export function getStartFailure(db: Sql, failureId: string): StartFailureRow | undefined {
  const record = cachedStatement(db, 'SELECT * FROM start_failures WHERE failure_id = ?').get(failureId) as
    StartFailureRecord | undefined;
  return record ? toRow(record) : undefined;
}
