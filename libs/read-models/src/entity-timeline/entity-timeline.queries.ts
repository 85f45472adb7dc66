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
}

/** Every process, task and decision about one record, in log order. */
export function entityTimeline(db: Sql, type: string, id: string, options: TimelineOptions = {}): TimelineEntry[] {
  const records = cachedStatement(
    db,
    `SELECT position, at, kind, actor, instance_id, task_id, summary, data, causation_id FROM timeline
     WHERE entity_type = ? AND entity_id = ? AND position > ? ORDER BY position LIMIT ?`,
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
  }));
}
