import type { ServiceActivity } from '../definition/definition';
import { addDuration, isWithinMaxDuration, nominalDurationMs, parseDuration } from '../definition/duration';
import { MAX_JOB_RETRIES } from '../definition/validate-definition';
import { DomainError } from '../errors';
import type { InstanceEvent } from '../events';
import type {
  Actor,
  CompleteJob,
  ExtendJobLock,
  FailJob,
  FireJobRetry,
  JobCommand,
  LockJob,
  ThrowJobError,
} from './commands';
import { continueFrom, raiseIncident, Recorder, runFrom, type FlowContext } from './flow';
import {
  InstanceNotRunning,
  InstanceSuspendedError,
  InvalidJobBackoff,
  InvalidJobRetries,
  InvalidLockDuration,
  JobLockNotHeld,
  JobNotAvailable,
  JobNotFound,
  JobNotOpen,
} from './instance-errors';
import type { JobState, LiveInstance } from './state';

/**
 * The instance decider's rules for the jobs of service activities (docs/decisions/0007-jobs.md). A lock is
 * an event on the instance stream, so whoever appends first holds the job: two workers never both lock it,
 * and only the worker holding it may complete, fail or answer it. A worker whose lock expired still holds
 * the job until another worker locks it.
 */

/** Bounds of a lock: long enough to be useful, short enough that a dead worker's jobs come back the same day. */
export const JOB_LOCK_BOUNDS = { minMs: 1_000, maxMs: 24 * 3600 * 1000 } as const;

/** Incident codes of service activities. */
export const JOB_RETRIES_EXHAUSTED = 'JOB.RETRIES_EXHAUSTED';
export const JOB_UNHANDLED_ERROR = 'JOB.UNHANDLED_ERROR';

/** `<instanceId>.<activityId>.<visit>.<n>`: the instance is known without a lookup. */
export const JOB_ID =
  /^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\.[A-Za-z_][A-Za-z0-9_]*\.[0-9]{1,9}\.[0-9]{1,9}$/;

/** The instance a job id names, or undefined when it is no job id. */
export const instanceOfJob = (jobId: string): string | undefined => JOB_ID.exec(jobId)?.[1];

type JobContext = FlowContext & { actor: Actor };

export function decideJob(state: LiveInstance, command: JobCommand, ctx: JobContext): InstanceEvent[] {
  switch (command.type) {
    case 'LockJob':
      return lock(state, command, ctx);
    case 'ExtendJobLock':
      return extend(state, command, ctx);
    case 'CompleteJob':
      return complete(state, command, ctx);
    case 'FailJob':
      return fail(state, command, ctx);
    case 'ThrowJobError':
      return throwError(state, command, ctx);
    case 'FireJobRetry':
      return retryDue(state, command, ctx);
    default: {
      const unknown: never = command;
      throw new Error(`Unknown job command ${JSON.stringify(unknown)}`);
    }
  }
}

function requireRunning(state: LiveInstance): void {
  if (state.status === 'suspended') throw new InstanceSuspendedError('Instance is suspended');
  if (state.status !== 'running') throw new InstanceNotRunning(`Instance is ${state.status}`);
}

function openJob(state: LiveInstance, jobId: string): JobState {
  const job = state.jobs[jobId];
  if (!job) throw new JobNotFound('No such job');
  if (job.status !== 'open') throw new JobNotOpen(`The job is ${job.status}`);
  requireRunning(state);
  return job;
}

/** The job, held by this worker (its lock may have expired, as long as nobody else locked it since). */
function heldJob(state: LiveInstance, jobId: string, workerId: string): JobState {
  const job = openJob(state, jobId);
  if (job.workerId !== workerId) {
    throw new JobLockNotHeld(
      job.workerId === undefined
        ? 'This worker does not hold the job: nobody has locked it since it was offered'
        : 'This worker does not hold the job: its lock expired and another worker locked it',
    );
  }
  return job;
}

function lockExpiry(now: string, lockDurationMs: number): string {
  if (
    !Number.isInteger(lockDurationMs) ||
    lockDurationMs < JOB_LOCK_BOUNDS.minMs ||
    lockDurationMs > JOB_LOCK_BOUNDS.maxMs
  ) {
    throw new InvalidLockDuration(
      `A lock lasts from ${JOB_LOCK_BOUNDS.minMs} to ${JOB_LOCK_BOUNDS.maxMs} ms, not ${lockDurationMs}`,
    );
  }
  return new Date(Date.parse(now) + lockDurationMs).toISOString();
}

function activityOf(ctx: JobContext, job: JobState): ServiceActivity | undefined {
  const activity = ctx.definition.activities[job.activityId];
  return activity?.type === 'service' ? activity : undefined;
}

/** Offered now: open, not waiting out a backoff, and nobody's lock still runs. */
export const isOffered = (job: JobState, now: string): boolean =>
  job.status === 'open' &&
  job.retryAt === undefined &&
  (job.lockExpiresAt === undefined || Date.parse(job.lockExpiresAt) <= Date.parse(now));

function lock(state: LiveInstance, command: LockJob, ctx: JobContext): InstanceEvent[] {
  const job = openJob(state, command.jobId);
  const lockExpiresAt = lockExpiry(ctx.now, command.lockDurationMs);
  if (job.retryAt !== undefined) throw new JobNotAvailable(`The job is offered again at ${job.retryAt}`);
  if (!isOffered(job, ctx.now)) throw new JobNotAvailable('Another lock on the job still runs');
  return [{ type: 'JobLocked', data: { jobId: job.jobId, workerId: command.workerId, lockExpiresAt } }];
}

function extend(state: LiveInstance, command: ExtendJobLock, ctx: JobContext): InstanceEvent[] {
  const job = heldJob(state, command.jobId, command.workerId);
  const lockExpiresAt = lockExpiry(ctx.now, command.lockDurationMs);
  return [{ type: 'JobLockExtended', data: { jobId: job.jobId, workerId: command.workerId, lockExpiresAt } }];
}

function complete(state: LiveInstance, command: CompleteJob, ctx: JobContext): InstanceEvent[] {
  const done = state.jobs[command.jobId];
  // The same worker saying it again (its answer was lost): done already, nothing more.
  if (done?.status === 'completed' && done.workerId === command.workerId) return [];
  const job = heldJob(state, command.jobId, command.workerId);
  const rec = new Recorder(state, job.token);
  rec.record({
    type: 'JobCompleted',
    data: {
      jobId: job.jobId,
      activityId: job.activityId,
      workerId: command.workerId,
      variables: command.variables ?? {},
    },
  });
  const activity = activityOf(ctx, job);
  if (activity) continueFrom(rec, job.activityId, job.visit, activity.next, ctx);
  return rec.events;
}

/** The backoff as a duration, or undefined for none (absent or zero). */
function backoffOf(text: string | undefined): string | undefined {
  if (text === undefined) return undefined;
  const duration = parseDuration(text);
  if (!duration || !isWithinMaxDuration(duration)) {
    throw new InvalidJobBackoff(`'${text}' is not an ISO-8601 duration of at most P100Y (such as PT30S)`);
  }
  return nominalDurationMs(duration) > 0 ? text : undefined;
}

function fail(state: LiveInstance, command: FailJob, ctx: JobContext): InstanceEvent[] {
  const job = heldJob(state, command.jobId, command.workerId);
  if (
    command.retries !== undefined &&
    (!Number.isInteger(command.retries) || command.retries < 0 || command.retries > MAX_JOB_RETRIES)
  ) {
    throw new InvalidJobRetries(`retries must be a whole number from 0 to ${MAX_JOB_RETRIES}`);
  }
  const retries = command.retries ?? Math.max(job.retries - 1, 0);
  const backoff = backoffOf(command.backoff ?? activityOf(ctx, job)?.retryBackoff);
  let retryAt: string | undefined;
  if (retries > 0 && backoff !== undefined) {
    try {
      retryAt = addDuration(ctx.now, backoff);
    } catch (error) {
      if (!(error instanceof DomainError)) throw error;
      throw new InvalidJobBackoff(`${backoff}: ${error.message}`);
    }
  }
  const rec = new Recorder(state, job.token);
  rec.record({
    type: 'JobFailed',
    data: {
      jobId: job.jobId,
      activityId: job.activityId,
      jobType: job.jobType,
      workerId: command.workerId,
      error: command.error,
      retries,
      ...(retryAt !== undefined ? { retryAt } : {}),
      entity: state.entity,
    },
  });
  if (retries === 0) {
    raiseIncident(
      rec,
      job.activityId,
      JOB_RETRIES_EXHAUSTED,
      `Job ${job.jobType} failed with no retries left: ${command.error}`,
    );
  }
  return rec.events;
}

function throwError(state: LiveInstance, command: ThrowJobError, ctx: JobContext): InstanceEvent[] {
  const job = heldJob(state, command.jobId, command.workerId);
  const errors = activityOf(ctx, job)?.errors ?? {};
  const next = Object.prototype.hasOwnProperty.call(errors, command.code) ? errors[command.code] : undefined;
  const rec = new Recorder(state, job.token);
  rec.record({
    type: 'JobErrorThrown',
    data: {
      jobId: job.jobId,
      activityId: job.activityId,
      workerId: command.workerId,
      code: command.code,
      ...(command.message !== undefined ? { message: command.message } : {}),
      variables: command.variables ?? {},
      ...(next !== undefined ? { next } : {}),
    },
  });
  if (next !== undefined) runFrom(rec, next, ctx);
  else {
    raiseIncident(
      rec,
      job.activityId,
      JOB_UNHANDLED_ERROR,
      `The worker reported the error ${command.code}${command.message ? ` (${command.message})` : ''}, for which ${job.activityId} declares no path`,
    );
  }
  return rec.events;
}

function retryDue(state: LiveInstance, command: FireJobRetry, ctx: JobContext): InstanceEvent[] {
  // A backoff runs out while the instance is suspended too; being suspended keeps the job from workers anyway.
  if (state.status !== 'running' && state.status !== 'suspended') return [];
  const job = state.jobs[command.jobId];
  if (!job || job.status !== 'open' || job.retryAt === undefined) return []; // a stale timer
  if (Date.parse(job.retryAt) > Date.parse(ctx.now)) return []; // not due yet
  return [{ type: 'JobRetryDue', data: { jobId: job.jobId, activityId: job.activityId, jobType: job.jobType } }];
}
