import { type LifelineEvent, JOB_RETRIES_EXHAUSTED, JOB_UNHANDLED_ERROR } from '@lifeline/process-domain';
import type { StoredEvent } from '@lifeline/event-store';
import { asLifelineEvent, instanceIdOf, json } from '../events';
import { boundCache, preparedFor, type Projection, type Sql } from '../read-model-db';

/**
 * Where a job stands: `available` and `locked` are open (a lock past its expiry is offered again),
 * `backoff` waits for its retry to be due; the others are closed.
 */
export type JobStateName = 'available' | 'locked' | 'backoff' | 'completed' | 'failed' | 'errored' | 'cancelled';

export const JOBS_SCHEMA = [
  // One row per job of a service activity (docs/decisions/0007-jobs.md).
  `CREATE TABLE IF NOT EXISTS jobs (
    job_id TEXT PRIMARY KEY,
    instance_id TEXT NOT NULL,
    activity_id TEXT NOT NULL,
    job_type TEXT NOT NULL,
    state TEXT NOT NULL,
    suspended INTEGER NOT NULL DEFAULT 0,
    retries INTEGER NOT NULL,
    worker_id TEXT,
    lock_expires_at TEXT,
    retry_at TEXT,
    last_error TEXT,
    error_code TEXT,
    -- The incident its failure raised (retries exhausted, or a business error with no path), and whether it is open.
    incident_id TEXT,
    incident_open INTEGER NOT NULL DEFAULT 0,
    -- Its last failure or unhandled business error raises an incident: the IncidentRaised that follows in the
    -- same decision (which names the activity, not the job) is this job's.
    incident_pending INTEGER NOT NULL DEFAULT 0,
    inputs TEXT NOT NULL,
    entity_type TEXT NOT NULL,
    entity_id TEXT NOT NULL,
    created_at TEXT NOT NULL,
    available_since TEXT NOT NULL,
    -- When workers may lock it (ISO instant, compared as text): since it became available, or when the lock
    -- on it expires; NULL while it cannot be (backoff, a suspended instance, closed).
    offered_from TEXT,
    updated_at TEXT NOT NULL,
    position INTEGER NOT NULL
  ) WITHOUT ROWID`,
  // Suspending, resuming and ending an instance touch its jobs.
  'CREATE INDEX IF NOT EXISTS jobs_by_instance ON jobs (instance_id)',
];

export const JOBS_QUERY_INDEXES = [
  // Fetching: the jobs of a type offered by now, the longest offered first; nothing else is in this index.
  'CREATE INDEX IF NOT EXISTS jobs_offered ON jobs (job_type, offered_from) WHERE offered_from IS NOT NULL',
];

/** Events whose statements only touch the jobs of their own instance (a job's own events name it by id). */
const INSTANCE_SCOPED = new Set<string>([
  'IncidentRaised',
  'IncidentResolved',
  'InstanceSuspended',
  'InstanceResumed',
  'InstanceMigrated',
  'InstanceTerminated',
  'InstanceCompleted',
]);

const JOB_INCIDENT_CODES = new Set([JOB_RETRIES_EXHAUSTED, JOB_UNHANDLED_ERROR]);

/** When a job is offered, from its other columns: SQL, so suspending and resuming an instance is one UPDATE. */
const OFFERED_FROM = `CASE WHEN suspended = 1 THEN NULL WHEN state = 'available' THEN available_since
  WHEN state = 'locked' THEN lock_expires_at ELSE NULL END`;

const statements = preparedFor((db: Sql) => ({
  /**
   * Instances known to have no job row: started (revision 0, so nothing earlier on their stream) with no
   * JobCreated since. Their ends, suspensions and incidents change no row here. Dropped when a batch is rolled back.
   */
  jobless: new Set<string>(),
  created: db.prepare(
    `INSERT OR IGNORE INTO jobs (job_id, instance_id, activity_id, job_type, state, retries, inputs, entity_type,
       entity_id, created_at, available_since, offered_from, updated_at, position)
     VALUES (@jobId, @instanceId, @activityId, @jobType, 'available', @retries, @inputs, @entityType, @entityId,
       @at, @at, @at, @at, @position)`,
  ),
  locked: db.prepare(
    `UPDATE jobs SET state = 'locked', worker_id = @workerId, lock_expires_at = @lockExpiresAt, updated_at = @at,
       position = @position WHERE job_id = @jobId AND state IN ('available', 'locked')`,
  ),
  closed: db.prepare(
    `UPDATE jobs SET state = @state, worker_id = COALESCE(@workerId, worker_id), lock_expires_at = NULL,
       last_error = COALESCE(@lastError, last_error), error_code = COALESCE(@errorCode, error_code),
       retries = COALESCE(@retries, retries), updated_at = @at, position = @position
     WHERE job_id = @jobId`,
  ),
  failed: db.prepare(
    `UPDATE jobs SET state = @state, retries = @retries, worker_id = @workerId, lock_expires_at = NULL,
       retry_at = @retryAt, last_error = @error, available_since = @at, updated_at = @at, position = @position
     WHERE job_id = @jobId`,
  ),
  retryDue: db.prepare(
    `UPDATE jobs SET state = 'available', retry_at = NULL, available_since = @at, updated_at = @at,
       position = @position WHERE job_id = @jobId AND state = 'backoff'`,
  ),
  offered: db.prepare(`UPDATE jobs SET offered_from = ${OFFERED_FROM} WHERE job_id = ?`),
  suspended: db.prepare(
    `UPDATE jobs SET suspended = @suspended, updated_at = @at, position = @position
     WHERE instance_id = @instanceId AND state IN ('available', 'locked', 'backoff')`,
  ),
  offeredOfInstance: db.prepare(`UPDATE jobs SET offered_from = ${OFFERED_FROM} WHERE instance_id = ?`),
  incident: db.prepare(
    `UPDATE jobs SET incident_id = @incidentId, incident_open = 1, incident_pending = 0, position = @position
     WHERE instance_id = @instanceId AND activity_id = @activityId AND incident_pending = 1`,
  ),
  incidentResolved: db.prepare(
    `UPDATE jobs SET incident_open = 0, position = @position WHERE instance_id = @instanceId AND incident_id = @incidentId`,
  ),
  incidentPending: db.prepare('UPDATE jobs SET incident_pending = 1 WHERE job_id = ?'),
  openOfInstance: db.prepare(
    "SELECT job_id, activity_id FROM jobs WHERE instance_id = ? AND state IN ('available', 'locked', 'backoff')",
  ),
  activityMoved: db.prepare('UPDATE jobs SET activity_id = ?, updated_at = ?, position = ? WHERE job_id = ?'),
  cancelled: db.prepare(
    `UPDATE jobs SET state = 'cancelled', lock_expires_at = NULL, offered_from = NULL, updated_at = @at,
       position = @position WHERE instance_id = @instanceId AND state IN ('available', 'locked', 'backoff')`,
  ),
}));

/**
 * The jobs of service activities: what the instance page shows, and where fetch-and-lock finds the jobs
 * offered to a type. Locks are decided on the instance stream; a row only says which jobs to try.
 */
export const jobsProjection: Projection = {
  name: 'jobs',
  prepare: statements,
  version: 1,
  tables: ['jobs'],
  schema: JOBS_SCHEMA,
  queryIndexes: JOBS_QUERY_INDEXES,
  startBatch(db: Sql): void {
    boundCache(statements(db).jobless);
  },
  rolledBack(db: Sql): void {
    statements(db).jobless.clear();
  },
  apply(db: Sql, stored: StoredEvent, decoded?: LifelineEvent): void {
    const instanceId = instanceIdOf(stored.streamId);
    if (instanceId === undefined) return;
    const event = decoded ?? asLifelineEvent(stored);
    const s = statements(db);
    if (event.type === 'InstanceStarted') {
      if (stored.revision === 0) s.jobless.add(instanceId);
      return;
    }
    if (s.jobless.has(instanceId)) {
      if (event.type === 'JobCreated') s.jobless.delete(instanceId);
      else if (INSTANCE_SCOPED.has(event.type)) return;
    }
    const { position } = stored;
    const at = stored.metadata.at;
    const noChange = { workerId: null, lastError: null, errorCode: null, retries: null };
    switch (event.type) {
      case 'JobCreated': {
        const d = event.data;
        s.created.run({
          jobId: d.jobId,
          instanceId,
          activityId: d.activityId,
          jobType: d.jobType,
          retries: d.retries,
          inputs: json(d.inputs) ?? '{}',
          entityType: d.entity.type,
          entityId: d.entity.id,
          at,
          position,
        });
        return;
      }
      case 'JobLocked':
      case 'JobLockExtended':
        s.locked.run({ ...event.data, at, position });
        s.offered.run(event.data.jobId);
        return;
      case 'JobCompleted':
        s.closed.run({
          ...noChange,
          jobId: event.data.jobId,
          state: 'completed',
          workerId: event.data.workerId,
          at,
          position,
        });
        s.offered.run(event.data.jobId);
        return;
      case 'JobFailed': {
        const d = event.data;
        s.failed.run({
          jobId: d.jobId,
          state: d.retries === 0 ? 'failed' : d.retryAt !== undefined ? 'backoff' : 'available',
          retries: d.retries,
          workerId: d.workerId,
          retryAt: d.retryAt ?? null,
          error: d.error,
          at,
          position,
        });
        s.offered.run(d.jobId);
        if (d.retries === 0) s.incidentPending.run(d.jobId);
        return;
      }
      case 'JobRetryDue':
        s.retryDue.run({ jobId: event.data.jobId, at, position });
        s.offered.run(event.data.jobId);
        return;
      case 'JobErrorThrown': {
        const d = event.data;
        s.closed.run({
          ...noChange,
          jobId: d.jobId,
          state: 'errored',
          workerId: d.workerId,
          errorCode: d.code,
          lastError: d.message ?? null,
          at,
          position,
        });
        s.offered.run(d.jobId);
        if (d.next === undefined) s.incidentPending.run(d.jobId);
        return;
      }
      case 'IncidentRaised':
        // Raised in the same decision as the failure that exhausted the job (docs/decisions/0007-jobs.md).
        if (JOB_INCIDENT_CODES.has(event.data.code)) {
          s.incident.run({
            instanceId,
            activityId: event.data.activityId,
            incidentId: event.data.incidentId,
            position,
          });
        }
        return;
      case 'IncidentResolved':
        s.incidentResolved.run({ instanceId, incidentId: event.data.incidentId, position });
        return;
      case 'InstanceSuspended':
      case 'InstanceResumed':
        s.suspended.run({ instanceId, suspended: event.type === 'InstanceSuspended' ? 1 : 0, at, position });
        s.offeredOfInstance.run(instanceId);
        return;
      case 'RecordDeleted':
        if (event.data.policy === 'next') s.cancelled.run({ instanceId, at, position });
        return;
      case 'InstanceMigrated': {
        // Open jobs show the activity they rest at in the new version, as the instance decides them (ids stay).
        const { mapping } = event.data;
        for (const job of s.openOfInstance.all(instanceId) as { job_id: string; activity_id: string }[]) {
          if (Object.hasOwn(mapping, job.activity_id))
            s.activityMoved.run(mapping[job.activity_id], at, position, job.job_id);
        }
        return;
      }
      case 'InstanceTerminated':
      case 'InstanceCompleted':
        s.cancelled.run({ instanceId, at, position });
        return;
      default:
        return;
    }
  },
};
