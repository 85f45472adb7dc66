import type { z } from 'zod';
import type { INSTANCE_ROW } from '../results';
import type { InstanceCause } from '@lifeline/process-domain';
import type { Sql } from '../read-model-db';
import { cachedStatement } from '../statement-cache';
import { VIEWER_TASK_CONDITION } from '../task-list/task-list.queries';
import type { InstanceStatus, OpenIncident } from './instances.projection';
import { visiblePositions, type Line } from './positions';

export interface InstanceFilter {
  definitionKey?: string;
  entityType?: string;
  entityId?: string;
  status?: InstanceStatus;
  hasIncident?: boolean;
  /** Only instances in which this viewer has (or had) a task: what a user without an overview role may list. */
  visibleTo?: { user: string; roles: string[] };
  limit?: number;
  offset?: number;
}

export type InstanceRow = z.infer<typeof INSTANCE_ROW>;

interface InstanceRecord {
  id: string;
  definition_key: string;
  definition_version: number;
  definition_name: string;
  entity_type: string;
  entity_id: string;
  status: InstanceStatus;
  current_activity: string | null;
  positions: string;
  variables: string;
  incidents: string;
  started_at: string;
  ended_at: string | null;
  cause: string;
  last_position: number;
}

export const DEFAULT_INSTANCE_PAGE = 50;
export const MAX_INSTANCE_PAGE = 500;

function toRow(record: InstanceRecord): InstanceRow {
  return {
    id: record.id,
    definitionKey: record.definition_key,
    definitionVersion: record.definition_version,
    definitionName: record.definition_name,
    entity: { type: record.entity_type, id: record.entity_id },
    status: record.status,
    currentActivity: record.current_activity,
    positions: visiblePositions(JSON.parse(record.positions) as Line[]),
    variables: JSON.parse(record.variables) as Record<string, unknown>,
    incidents: JSON.parse(record.incidents) as OpenIncident[],
    startedAt: record.started_at,
    endedAt: record.ended_at,
    cause: JSON.parse(record.cause) as InstanceCause,
    lastPosition: record.last_position,
  };
}

/** Instances, newest first. */
export function listInstances(db: Sql, filter: InstanceFilter = {}): InstanceRow[] {
  const where: string[] = [];
  const params: Record<string, string | number> = {};
  if (filter.definitionKey !== undefined) {
    where.push('definition_key = @definitionKey');
    params.definitionKey = filter.definitionKey;
  }
  if (filter.entityType !== undefined) {
    where.push('entity_type = @entityType');
    params.entityType = filter.entityType;
  }
  if (filter.entityId !== undefined) {
    where.push('entity_id = @entityId');
    params.entityId = filter.entityId;
  }
  if (filter.status !== undefined) {
    where.push('status = @status');
    params.status = filter.status;
  }
  if (filter.hasIncident !== undefined) where.push(filter.hasIncident ? 'incident_count > 0' : 'incident_count = 0');
  if (filter.visibleTo !== undefined) {
    where.push(`EXISTS (SELECT 1 FROM tasks t WHERE t.instance_id = instances.id AND ${VIEWER_TASK_CONDITION})`);
    params.user = filter.visibleTo.user;
    params.roles = JSON.stringify(filter.visibleTo.roles);
  }
  params.limit = Math.min(Math.max(Math.trunc(filter.limit ?? DEFAULT_INSTANCE_PAGE), 1), MAX_INSTANCE_PAGE);
  params.offset = Math.max(Math.trunc(filter.offset ?? 0), 0);
  const text =
    'SELECT * FROM instances' +
    (where.length ? ` WHERE ${where.join(' AND ')}` : '') +
    ' ORDER BY seq DESC LIMIT @limit OFFSET @offset';
  return (cachedStatement(db, text).all(params) as InstanceRecord[]).map(toRow);
}

export function getInstance(db: Sql, id: string): InstanceRow | undefined {
  const record = cachedStatement(db, 'SELECT * FROM instances WHERE id = ?').get(id) as InstanceRecord | undefined;
  return record ? toRow(record) : undefined;
}

/** What POST /definitions/:key/migrate moves: the running and suspended instances of one version. */
export interface MigrationSelection {
  definitionKey: string;
  definitionVersion: number;
  /** Only those whose activity entered last is this one. */
  activity?: string;
  entityType?: string;
}

/** The ids of the instances a migration selects, oldest first. */
export function instancesToMigrate(db: Sql, selection: MigrationSelection): string[] {
  const where = [
    'definition_key = @definitionKey',
    'definition_version = @definitionVersion',
    "lifecycle IN ('running', 'suspended')",
  ];
  const params: Record<string, unknown> = {
    definitionKey: selection.definitionKey,
    definitionVersion: selection.definitionVersion,
  };
  if (selection.activity !== undefined) {
    // Any line resting there: a parallel instance is at several activities at once.
    where.push("EXISTS (SELECT 1 FROM json_each(positions) WHERE json_extract(value, '$.activityId') = @activity)");
    params.activity = selection.activity;
  }
  if (selection.entityType !== undefined) {
    where.push('entity_type = @entityType');
    params.entityType = selection.entityType;
  }
  const text = `SELECT id FROM instances WHERE ${where.join(' AND ')} ORDER BY seq`;
  return cachedStatement(db, text).pluck().all(params) as string[];
}
