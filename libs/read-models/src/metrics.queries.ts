import type { Sql } from './read-model-db';
import { cachedStatement } from './statement-cache';

/** Open tasks by role (`none`: assigned to a user by name), for /metrics. */
export function openTasksByRole(db: Sql): { role: string; count: number }[] {
  return cachedStatement(
    db,
    `SELECT coalesce(role, 'none') AS role, count(*) AS count FROM tasks WHERE open = 1 GROUP BY coalesce(role, 'none')`,
  ).all() as { role: string; count: number }[];
}

/** Open tasks whose due time has passed at `now`. */
export function overdueTaskCount(db: Sql, now: string): number {
  return (
    cachedStatement(db, 'SELECT count(*) AS count FROM tasks WHERE open = 1 AND due_at IS NOT NULL AND due_at < ?').get(
      now,
    ) as { count: number }
  ).count;
}

/** Running instances with at least one open incident. */
export function incidentInstanceCount(db: Sql): number {
  return (
    cachedStatement(db, "SELECT count(*) AS count FROM instances WHERE status = 'incident'").get() as { count: number }
  ).count;
}
