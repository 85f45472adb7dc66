import type { z } from 'zod';
import type { TIMELINE_ENTRY } from '../results';
import type { Sql } from '../read-model-db';
import { cachedStatement } from '../statement-cache';

/** The number of the record (type, id) whose entries are read. */
const ENTITY = 'SELECT entity FROM timeline_entities WHERE entity_type = ? AND entity_id = ?';

export type TimelineEntry = z.infer<typeof TIMELINE_ENTRY>;

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
  event_id: string;
}

/** Every process, task and decision about one record, in log order. */
export function entityTimeline(db: Sql, type: string, id: string, options: TimelineOptions = {}): TimelineEntry[] {
  const records = cachedStatement(
    db,
    `SELECT position, at, kind, actor, instance_id, task_id, summary, data, causation_id, event_id
       FROM timeline WHERE entity = (${ENTITY}) AND position > ? ORDER BY position LIMIT ?`,
  ).all(type, id, options.afterPosition ?? 0, Math.max(Math.trunc(options.limit ?? 1000), 1)) as TimelineRecord[];
  const causes = causesOf(db, type, id, records);
  return records.map((r) => {
    const cause = causes.get(r.causation_id);
    return {
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
        cause !== undefined && cause.position < r.position
          ? { id: r.causation_id, type: cause.kind, position: cause.position }
          : null,
    };
  });
}

/** The entries of this record the page's entries were caused by: from the page itself, else looked up. */
function causesOf(
  db: Sql,
  type: string,
  id: string,
  records: readonly TimelineRecord[],
): Map<string, { kind: string; position: number }> {
  const found = new Map(records.map((r) => [r.event_id, { kind: r.kind, position: r.position }]));
  const missing = [...new Set(records.map((r) => r.causation_id))].filter((c) => !found.has(c));
  for (let i = 0; i < missing.length; i += 200) {
    const chunk = missing.slice(i, i + 200);
    const rows = db
      .prepare(
        `SELECT event_id, kind, position FROM timeline
          WHERE entity = (${ENTITY}) AND event_id IN (${chunk.map(() => '?').join(', ')})`,
      )
      .all(type, id, ...chunk) as { event_id: string; kind: string; position: number }[];
    for (const row of rows) found.set(row.event_id, { kind: row.kind, position: row.position });
  }
  return found;
}

/** The record as last recorded, from its newest entity event on the timeline (for a process without the reactor). */
export function latestRecordData(
  db: Sql,
  type: string,
  id: string,
): { data: Record<string, unknown>; entityEventId?: string } {
  const row = db
    .prepare(
      `SELECT data FROM timeline WHERE entity = (${ENTITY}) AND kind = 'EntityEventRecorded'
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
