import type { Sql } from '../read-model-db';
import { cachedStatement } from '../statement-cache';

export interface TimelineEntry {
  position: number;
  at: string;
  /** The event type (`EntityEventRecorded`, `TaskCompleted`, …). */
  kind: string;
  actor: string;
  instanceId: string | null;
  taskId: string | null;
  summary: string;
  data: unknown;
  causationId: string;
  /** The event that caused this one, when it is on the same timeline (else only `causationId` is known). */
  cause: { id: string; type: string; position: number } | null;
}

export interface TimelineOptions {
  /** Only entries after this global position (paging forwards). */
  afterPosition?: number;
  limit?: number;
}

interface TimelineRecord {
  position: number;
  at: string;
  kind: string;
  actor: string;
  instance_id: string | null;
  task_id: string | null;
  summary: string;
  data: string;
  causation_id: string;
  cause_type: string | null;
  cause_position: number | null;
}

/** Every process, task and decision about one record, in log order. */
export function entityTimeline(db: Sql, type: string, id: string, options: TimelineOptions = {}): TimelineEntry[] {
  const records = cachedStatement(
    db,
    `SELECT t.position, t.at, t.kind, t.actor, t.instance_id, t.task_id, t.summary, t.data, t.causation_id,
       c.kind AS cause_type, c.position AS cause_position
     FROM timeline t LEFT JOIN timeline_causes c ON c.event_id = t.causation_id AND c.position < t.position
     WHERE t.entity_type = ? AND t.entity_id = ? AND t.position > ? ORDER BY t.position LIMIT ?`,
  ).all(type, id, options.afterPosition ?? 0, Math.max(Math.trunc(options.limit ?? 1000), 1)) as TimelineRecord[];
  return records.map((r) => ({
    position: r.position,
    at: r.at,
    kind: r.kind,
    actor: r.actor,
    instanceId: r.instance_id,
    taskId: r.task_id,
    summary: r.summary,
    data: JSON.parse(r.data) as unknown,
    causationId: r.causation_id,
    cause:
      r.cause_type !== null && r.cause_position !== null
        ? { id: r.causation_id, type: r.cause_type, position: r.cause_position }
        : null,
  }));
}

/** The record as last recorded, from its newest entity event on the timeline (for a process without the reactor). */
export function latestRecordData(
  db: Sql,
  type: string,
  id: string,
): { data: Record<string, unknown>; entityEventId?: string } {
  const row = db
    .prepare(
      `SELECT data FROM timeline WHERE entity_type = ? AND entity_id = ? AND kind = 'EntityEventRecorded'
        ORDER BY position DESC LIMIT 1`,
    )
    .get(type, id) as { data: string } | undefined;
  if (!row) return { data: {} };
  const recorded = JSON.parse(row.data) as { envelope?: { id?: string; data?: Record<string, unknown> } };
  return {
    data: recorded.envelope?.data ?? {},
    ...(recorded.envelope?.id !== undefined ? { entityEventId: recorded.envelope.id } : {}),
  };
}
