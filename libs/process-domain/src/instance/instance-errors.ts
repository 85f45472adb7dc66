import { DomainError } from '../errors';

export class InstanceNotFound extends DomainError {
  readonly code = 'INSTANCE.NOT_FOUND';
  readonly family = 'not-found' as const;
}
export class InstanceNotRunning extends DomainError {
  readonly code = 'INSTANCE.NOT_RUNNING';
  readonly family = 'conflict' as const;
}
export class InstanceSuspendedError extends DomainError {
  readonly code = 'INSTANCE.SUSPENDED';
  readonly family = 'conflict' as const;
}
export class InstanceNotSuspended extends DomainError {
  readonly code = 'INSTANCE.NOT_SUSPENDED';
  readonly family = 'conflict' as const;
}
export class DefinitionVersionMismatch extends DomainError {
  readonly code = 'INSTANCE.DEFINITION_MISMATCH';
  readonly family = 'conflict' as const;
}
export class TaskNotFound extends DomainError {
  readonly code = 'TASK.NOT_FOUND';
  readonly family = 'not-found' as const;
}
/** The actor may see the task (their role's) but not do this to it (only its assignee or an admin may). */
export class TaskNotAssignable extends DomainError {
  readonly code = 'TASK.NOT_ASSIGNABLE';
  readonly family = 'forbidden' as const;
}
export class TaskAlreadyCompleted extends DomainError {
  readonly code = 'TASK.ALREADY_COMPLETED';
  readonly family = 'conflict' as const;
}
/** A boundary event interrupted the task (an escalation, the record was cancelled): nobody can act on it any more. */
export class TaskCancelledError extends DomainError {
  readonly code = 'TASK.CANCELLED';
  readonly family = 'conflict' as const;
}
export class TaskAlreadyClaimed extends DomainError {
  readonly code = 'TASK.ALREADY_CLAIMED';
  readonly family = 'conflict' as const;
}
export class TaskNotClaimed extends DomainError {
  readonly code = 'TASK.NOT_CLAIMED';
  readonly family = 'conflict' as const;
}
export class TaskNotReleasable extends DomainError {
  readonly code = 'TASK.NOT_RELEASABLE';
  readonly family = 'conflict' as const;
}
export class InvalidTaskResult extends DomainError {
  readonly code = 'TASK.INVALID_RESULT';
  readonly family = 'validation' as const;
}
export class RequiredFieldMissing extends DomainError {
  readonly code = 'TASK.REQUIRED_FIELD_MISSING';
  readonly family = 'validation' as const;
}
export class InvalidTaskField extends DomainError {
  readonly code = 'TASK.INVALID_FIELD';
  readonly family = 'validation' as const;
}
export class InvalidAnswer extends DomainError {
  readonly code = 'TASK.INVALID_ANSWER';
  readonly family = 'validation' as const;
}
export class InvalidPostpone extends DomainError {
  readonly code = 'TASK.INVALID_POSTPONE';
  readonly family = 'validation' as const;
}
export class InvalidReassign extends DomainError {
  readonly code = 'TASK.INVALID_REASSIGN';
  readonly family = 'validation' as const;
}
/** A parent's incident that mirrors its child's: it is retried on the child, and clears with it. */
export class IncidentOnChild extends DomainError {
  readonly code = 'INCIDENT.ON_CHILD';
  readonly family = 'conflict' as const;
}
export class IncidentNotFound extends DomainError {
  readonly code = 'INCIDENT.NOT_FOUND';
  readonly family = 'not-found' as const;
}
// ---- jobs of service activities (docs/decisions/0007-jobs.md) ----
export class JobNotFound extends DomainError {
  readonly code = 'JOB.NOT_FOUND';
  readonly family = 'not-found' as const;
}
/** Completed, failed for good, ended by a business error, or cancelled with its instance. */
export class JobNotOpen extends DomainError {
  readonly code = 'JOB.NOT_OPEN';
  readonly family = 'conflict' as const;
}
/** Locked by a worker whose lock has not expired, or waiting out its backoff: not to be locked now. */
export class JobNotAvailable extends DomainError {
  readonly code = 'JOB.NOT_AVAILABLE';
  readonly family = 'conflict' as const;
}
/** The worker does not hold the job: its lock expired and another worker locked it, or it never locked it. */
export class JobLockNotHeld extends DomainError {
  readonly code = 'JOB.LOCK_NOT_HELD';
  readonly family = 'conflict' as const;
}
export class InvalidJobBackoff extends DomainError {
  readonly code = 'JOB.INVALID_BACKOFF';
  readonly family = 'validation' as const;
}
export class InvalidLockDuration extends DomainError {
  readonly code = 'JOB.INVALID_LOCK_DURATION';
  readonly family = 'validation' as const;
}
export class InvalidJobRetries extends DomainError {
  readonly code = 'JOB.INVALID_RETRIES';
  readonly family = 'validation' as const;
}
// ---- migrating an instance to another version (instance/migrate.ts) ----
/** Why one resting activity cannot move: `activityId` of the current version, `to` the target's, when known. */
export interface MigrationReason {
  activityId: string;
  to?: string;
  problem:
    'NO_TARGET' | 'UNKNOWN_ACTIVITY' | 'TYPE_MISMATCH' | 'BOUNDARY_MISMATCH' | 'RESULTS_MISMATCH' | 'JOIN_CHANGED';
  message: string;
}
/** Some resting activity has no place in the target version; `details` lists the reasons by activity. */
export class MigrationNotPossible extends DomainError {
  readonly code = 'MIGRATION.NOT_POSSIBLE';
  readonly family = 'conflict' as const;
  constructor(
    message: string,
    readonly reasons: MigrationReason[],
  ) {
    super(message, reasons);
  }
}
/** The instance runs the target version already (moved by someone else first, or never needed it). */
export class MigrationAlreadyOnVersion extends DomainError {
  readonly code = 'MIGRATION.ALREADY_ON_VERSION';
  readonly family = 'conflict' as const;
}
