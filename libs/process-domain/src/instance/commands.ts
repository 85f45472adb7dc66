import type { EntityRef, InstanceCause } from '../events';
import type { EntityEventSource } from '../entity/envelope';

/** Commands on one instance stream: imperative names, discriminated on `type`. */
export type StartInstance = {
  type: 'StartInstance';
  instanceId: string;
  definitionKey: string;
  definitionVersion: number;
  entity: EntityRef;
  variables: Record<string, unknown>;
  cause: InstanceCause;
};
export type ClaimTask = { type: 'ClaimTask'; taskId: string };
export type ReleaseTask = { type: 'ReleaseTask'; taskId: string };
export type ReassignTask = { type: 'ReassignTask'; taskId: string; to: { user: string } | { role: string } };
export type PostponeTask = { type: 'PostponeTask'; taskId: string; until: string; dueAt?: string };
export type CompleteTask = {
  type: 'CompleteTask';
  taskId: string;
  result?: string;
  fields?: Record<string, unknown>;
  answers?: string[];
};
/** The related record changed: a wait whose `until` now holds resumes. */
export type CheckWait = {
  type: 'CheckWait';
  entityEventId?: string;
  entitySource?: EntityEventSource;
  /** The entity event deletes the record: the definition's `onRecordDeleted` applies. */
  recordDeleted?: true;
};
export type FireWaitTimeout = { type: 'FireWaitTimeout'; activityId: string; visit: number };
/** A boundary event's timer on an open task or wait is due. */
export type FireBoundaryTimer = {
  type: 'FireBoundaryTimer';
  activityId: string;
  visit: number;
  index: number;
  /** The due time of the timer that fired: a repeat fires each due time once. */
  dueAt: string;
};
// ---- a sub-process's child reports to its parent (sent by the reactions) ----
export type CompleteSubprocess = {
  type: 'CompleteSubprocess';
  childInstanceId: string;
  variables: Record<string, unknown>;
};
export type FailSubprocess = { type: 'FailSubprocess'; childInstanceId: string; code: string; message: string };
/** A child's incident was raised (or resolved): the parent shows (or clears) it at its activity. */
export type MirrorChildIncident = {
  type: 'MirrorChildIncident';
  childInstanceId: string;
  incidentId: string;
  code: string;
  message: string;
  resolved: boolean;
};
export type SuspendInstance = { type: 'SuspendInstance'; reason?: string };
export type ResumeInstance = { type: 'ResumeInstance' };
export type TerminateInstance = {
  type: 'TerminateInstance';
  reason?: string;
  /** The engine ending a child with its parent: an instance that ended already is left as it is (no error). */
  ifRunning?: true;
};
/**
 * Move the instance to `toVersion` of its definition (decided against both versions, instance/migrate.ts):
 * `mapping` names where each resting activity goes; one absent keeps its id.
 */
export type MigrateInstance = {
  type: 'MigrateInstance';
  toVersion: number;
  mapping: Record<string, string>;
  /** The version the caller selected the instance on: another one means someone else moved it first. */
  fromVersion?: number;
};
export type RetryIncident = { type: 'RetryIncident'; incidentId: string };
// ---- jobs of service activities: a worker acts under its `workerId` (docs/decisions/0007-jobs.md) ----
export type LockJob = { type: 'LockJob'; jobId: string; workerId: string; lockDurationMs: number };
export type ExtendJobLock = { type: 'ExtendJobLock'; jobId: string; workerId: string; lockDurationMs: number };
export type CompleteJob = {
  type: 'CompleteJob';
  jobId: string;
  workerId: string;
  variables?: Record<string, unknown>;
};
export type FailJob = {
  type: 'FailJob';
  jobId: string;
  workerId: string;
  error: string;
  /** Failures it may still have; by default one fewer than before. */
  retries?: number;
  /** ISO-8601 duration before it is offered again; by default the activity's `retryBackoff`. */
  backoff?: string;
};
export type ThrowJobError = {
  type: 'ThrowJobError';
  jobId: string;
  workerId: string;
  code: string;
  message?: string;
  variables?: Record<string, unknown>;
};
/** A failed job's backoff timer is due. */
export type FireJobRetry = { type: 'FireJobRetry'; jobId: string };
export type JobCommand = LockJob | ExtendJobLock | CompleteJob | FailJob | ThrowJobError | FireJobRetry;

export type InstanceCommand =
  | StartInstance
  | ClaimTask
  | ReleaseTask
  | ReassignTask
  | PostponeTask
  | CompleteTask
  | CheckWait
  | FireWaitTimeout
  | FireBoundaryTimer
  | CompleteSubprocess
  | FailSubprocess
  | MirrorChildIncident
  | SuspendInstance
  | ResumeInstance
  | TerminateInstance
  | RetryIncident
  | MigrateInstance
  | JobCommand;

/** Who acts: a user (from a token), or the engine itself. */
export interface Actor {
  id: string;
  roles: readonly string[];
  /** The engine itself (process manager, timers): set only by the engine, never derived from a token's claims. */
  engine?: true;
}

/** The engine's own actor; its rights come from `engine`, not from its name, which is reserved (user-id.ts). */
export const SYSTEM: Actor = Object.freeze({ id: 'system', roles: [], engine: true as const });
/** Admin rights: the `admin` role, or the engine itself. */
export const isAdmin = (actor: Actor): boolean => actor.engine === true || actor.roles.includes('admin');
