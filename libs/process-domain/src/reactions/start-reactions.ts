import { isScheduleTrigger } from '../definition/definition';
import { addDuration } from '../definition/duration';
import type { EntityEventEnvelope } from '../entity/envelope';
import { DomainError } from '../errors';
import type { EntityEvent, StartFailed, StartRetried } from '../events';
import { INVALID_DURATION } from '../instance/flow';
import { matchTriggers, type ActiveDefinition, type TriggerMatch } from '../triggers/match-triggers';

/**
 * Pure decisions about starting processes for a record that are not an instance's own: when a
 * delayed start is due, whether a due one may still start, and what retrying a failed start does
 * (docs/decisions/0004-failed-reactions.md).
 */

export type Failure = { code: string; message: string };

/** When a delayed start is due (`recordedAt + delay`), or why it cannot be computed. */
export function delayedStartAt(
  recordedAt: string,
  delay: string,
): { ok: true; startAt: string } | ({ ok: false } & Failure) {
  try {
    return { ok: true, startAt: addDuration(recordedAt, delay) };
  } catch (error) {
    if (!(error instanceof DomainError)) throw error;
    return { ok: false, code: INVALID_DURATION, message: `delay ${delay}: ${error.message}` };
  }
}

/** Reasons worded as the reactions decider's `decideTimer` words them. */
export const SKIP_REASONS = {
  deactivated: 'the definition is deactivated',
  unknown: 'the definition is unknown',
} as const;

export type DueDelayedStart =
  { start: true } | { start: false; reason: (typeof SKIP_REASONS)[keyof typeof SKIP_REASONS] };

/**
 * A delayed start fires only if its definition is enabled at the moment it is due; otherwise it is
 * skipped for good (activating the definition again does not revive it, nor does a replay that
 * meets the timer again: `skippedBefore` says the record already holds its DelayedStartSkipped).
 */
export function decideDueDelayedStart(
  definition: { enabled: boolean } | undefined,
  skippedBefore = false,
): DueDelayedStart | { start: false; reason: 'skipped-before' } {
  if (skippedBefore) return { start: false, reason: 'skipped-before' };
  if (!definition) return { start: false, reason: SKIP_REASONS.unknown };
  return definition.enabled ? { start: true } : { start: false, reason: SKIP_REASONS.deactivated };
}

/** One failed start of a record, and its retry once there was one. */
export interface StartFailure {
  failure: StartFailed['data'];
  failedAt: string;
  retried?: StartRetried['data'];
}

/** The failed starts recorded on one record's stream, by failure id. */
export function startFailuresOf(events: readonly { event: EntityEvent; at: string }[]): Map<string, StartFailure> {
  const failures = new Map<string, StartFailure>();
  for (const { event, at } of events) {
    if (event.type === 'StartFailed') failures.set(event.data.failureId, { failure: event.data, failedAt: at });
    else if (event.type === 'StartRetried') {
      const failure = failures.get(event.data.failureId);
      if (failure) failure.retried = event.data;
    }
  }
  return failures;
}

export class StartFailureNotFound extends DomainError {
  readonly code = 'START_FAILURE.NOT_FOUND';
  readonly family = 'not-found' as const;
}
export class StartFailureAlreadyRetried extends DomainError {
  readonly code = 'START_FAILURE.ALREADY_RETRIED';
  readonly family = 'conflict' as const;
}
export class DefinitionDisabled extends DomainError {
  readonly code = 'DEFINITION.DISABLED';
  readonly family = 'conflict' as const;
}
/** Retrying hit the same kind of problem again (a trigger condition that fails, a delay out of range). */
export class StartRetryFailed extends DomainError {
  readonly code = 'START_FAILURE.FAILED_AGAIN';
  readonly family = 'conflict' as const;
}

export type StartRetryPlan =
  | { kind: 'start'; match: TriggerMatch }
  | { kind: 'schedule'; match: TriggerMatch; startAt: string }
  | { kind: 'no-match' };

/**
 * What retrying an open failed start does, with the definition as it is now (a fixed version is
 * used): its triggers are matched against the original entity event, as of when it was recorded.
 */
export function planStartRetry(
  failure: StartFailure | undefined,
  latest: ActiveDefinition | undefined,
  envelope: EntityEventEnvelope,
  recordedAt: string,
): StartRetryPlan {
  if (!failure) throw new StartFailureNotFound('No such failed start');
  if (failure.retried) {
    throw new StartFailureAlreadyRetried(`This failed start was already retried by ${failure.retried.by}`);
  }
  if (!latest) throw new DefinitionDisabled(`The definition ${failure.failure.definitionKey} no longer exists`);
  if (!latest.enabled) {
    throw new DefinitionDisabled(`The definition ${failure.failure.definitionKey} is deactivated; activate it first`);
  }
  // A scheduled start has no entity event to match: its tick came; the latest version starts it if it still has a schedule.
  if (failure.failure.stage === 'scheduled-start') {
    const triggerIndex = latest.definition.triggers.findIndex(isScheduleTrigger);
    if (triggerIndex < 0) return { kind: 'no-match' };
    const match: TriggerMatch = {
      definitionKey: latest.definition.key,
      definitionVersion: latest.version,
      triggerIndex,
      executionOrder: latest.executionOrder,
    };
    return { kind: 'start', match };
  }
  const { matches, errors } = matchTriggers([latest], envelope, recordedAt);
  const error = errors[0];
  if (error) {
    throw new StartRetryFailed(`triggers[${error.triggerIndex}].when: ${error.code}: ${error.message}`, error);
  }
  const match = matches[0];
  if (!match) return { kind: 'no-match' };
  if (match.delay === undefined) return { kind: 'start', match };
  const due = delayedStartAt(recordedAt, match.delay);
  if (!due.ok) throw new StartRetryFailed(`${due.code}: ${due.message}`, due);
  return { kind: 'schedule', match, startAt: due.startAt };
}
