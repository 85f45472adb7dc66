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
export type CheckWait = { type: 'CheckWait'; entityEventId?: string; entitySource?: EntityEventSource };
export type FireWaitTimeout = { type: 'FireWaitTimeout'; activityId: string; visit: number };
export type SuspendInstance = { type: 'SuspendInstance'; reason?: string };
export type ResumeInstance = { type: 'ResumeInstance' };
export type TerminateInstance = { type: 'TerminateInstance'; reason?: string };
export type RetryIncident = { type: 'RetryIncident'; incidentId: string };

export type InstanceCommand =
  | StartInstance
  | ClaimTask
  | ReleaseTask
  | ReassignTask
  | PostponeTask
  | CompleteTask
  | CheckWait
  | FireWaitTimeout
  | SuspendInstance
  | ResumeInstance
  | TerminateInstance
  | RetryIncident;

/** Who acts. `system` is the engine itself (process manager, timers). */
export interface Actor {
  id: string;
  roles: readonly string[];
}

export const SYSTEM: Actor = { id: 'system', roles: ['system'] };
export const isAdmin = (actor: Actor): boolean => actor.id === SYSTEM.id || actor.roles.includes('admin');
