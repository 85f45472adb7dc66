import type { z } from 'zod';
import type { JOB_ROW } from '../results';
import type { Sql } from '../read-model-db';
import { cachedStatement } from '../statement-cache';
import type { JobStateName } from './jobs.projection';

export type JobRow = z.infer<typeof JOB_ROW>;

/** A job a worker may try to lock now. */
export interface OfferedJob {
  jobId: string;
  instanceId: string;
  jobType: string;
  offeredFrom: string;
}

interface JobRecord {
  job_id: string;
  instance_id: string;
  activity_id: string;
  job_type: string;
  state: JobStateName;
  suspended: number;
  retries: number;
  worker_id: string | null;
  lock_expires_at: string | null;
  retry_at: string | null;
  last_error: string | null;
  error_code: string | null;
  incident_id: string | null;
  incident_open: number;
  inputs: string;
  entity_type: string;
  entity_id: string;
  created_at: string;
  updated_at: string;
  position: number;
}

const toRow = (r: JobRecord): JobRow => ({
  jobId: r.job_id,
  instanceId: r.instance_id,
  activityId: r.activity_id,
  jobType: r.job_type,
  state: r.state,
  suspended: r.suspended === 1,
  retries: r.retries,
  workerId: r.worker_id,
  lockExpiresAt: r.lock_expires_at,
  retryAt: r.retry_at,
  lastError: r.last_error,
  errorCode: r.error_code,
  incident: r.incident_id === null ? null : { incidentId: r.incident_id, open: r.incident_open === 1 },
  inputs: JSON.parse(r.inputs) as Record<string, unknown>,
  entity: { type: r.entity_type, id: r.entity_id },
  createdAt: r.created_at,
  updatedAt: r.updated_at,
  position: r.position,
});

/**
 * Jobs of these types offered at `now` (available, or locked by a lock that has expired), the longest
 * offered first: candidates only, since the lock itself is decided on the instance stream.
 */
export function offeredJobs(db: Sql, types: readonly string[], now: string, limit: number): OfferedJob[] {
  const statement = cachedStatement(
    db,
    `SELECT job_id AS jobId, instance_id AS instanceId, job_type AS jobType, offered_from AS offeredFrom FROM jobs
     WHERE job_type = ? AND offered_from IS NOT NULL AND offered_from <= ? ORDER BY offered_from, job_id LIMIT ?`,
  );
  // One index range per type, merged: each reads at most `limit` entries whatever the backlog.
  const found: OfferedJob[] = [];
  for (const type of new Set(types)) found.push(...(statement.all(type, now, limit) as OfferedJob[]));
  found.sort((a, b) =>
    a.offeredFrom < b.offeredFrom ? -1 : a.offeredFrom > b.offeredFrom ? 1 : a.jobId < b.jobId ? -1 : 1,
  );
  return found.slice(0, limit);
}

/** The next instant after `now` at which a job of these types is offered (a lock running out), if any. */
export function nextOfferAfter(db: Sql, types: readonly string[], now: string): string | undefined {
  const statement = cachedStatement(
    db,
    `SELECT MIN(offered_from) AS next FROM jobs WHERE job_type = ? AND offered_from IS NOT NULL AND offered_from > ?`,
  );
  let next: string | undefined;
  for (const type of new Set(types)) {
    const found = (statement.get(type, now) as { next: string | null }).next;
    if (found !== null && (next === undefined || found < next)) next = found;
  }
  return next;
}

export interface JobFilter {
  state?: JobStateName;
  jobType?: string;
  instanceId?: string;
  workerId?: string;
  /** Only jobs whose incident is still open. */
  openIncident?: boolean;
  limit?: number;
  offset?: number;
}

export const DEFAULT_JOB_PAGE = 50;
export const MAX_JOB_PAGE = 500;

/** Jobs, the most recently changed first (what operators list). */
export function listJobs(db: Sql, filter: JobFilter = {}): JobRow[] {
  const where: string[] = [];
  const params: Record<string, string | number> = {};
  for (const [column, value] of [
    ['state', filter.state],
    ['job_type', filter.jobType],
    ['instance_id', filter.instanceId],
    ['worker_id', filter.workerId],
  ] as const) {
    if (value === undefined) continue;
    where.push(`${column} = @${column}`);
    params[column] = value;
  }
  if (filter.openIncident !== undefined) where.push(`incident_open = ${filter.openIncident ? 1 : 0}`);
  params.limit = Math.min(Math.max(Math.trunc(filter.limit ?? DEFAULT_JOB_PAGE), 1), MAX_JOB_PAGE);
  params.offset = Math.max(Math.trunc(filter.offset ?? 0), 0);
  const text =
    'SELECT * FROM jobs' +
    (where.length ? ` WHERE ${where.join(' AND ')}` : '') +
    ' ORDER BY position DESC, job_id LIMIT @limit OFFSET @offset';
  return (cachedStatement(db, text).all(params) as JobRecord[]).map(toRow);
}

export function getJob(db: Sql, jobId: string): JobRow | undefined {
  const record = cachedStatement(db, 'SELECT * FROM jobs WHERE job_id = ?').get(jobId) as JobRecord | undefined;
  return record ? toRow(record) : undefined;
}

/** An instance's jobs in the order they were created (the instance page). */
export function jobsOfInstance(db: Sql, instanceId: string): JobRow[] {
  const text = 'SELECT * FROM jobs WHERE instance_id = ? ORDER BY created_at, job_id';
  return (cachedStatement(db, text).all(instanceId) as JobRecord[]).map(toRow);
}
