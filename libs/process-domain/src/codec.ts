import { DomainError } from './errors';
import type {
  DefinitionEvent,
  EntityEvent,
  InstanceEvent,
  LifelineEvent,
  LifelineEventType,
  WebhookEvent,
} from './events';

/**
 * The one way stored events come back into the domain: the store keeps `{type, data}` untyped, and
 * this codec checks the type is one of the catalogue's, that `data` is an object, and upcasts old
 * payload shapes to the current ones. Nothing else casts `data: unknown`.
 */

export class UnknownEventType extends DomainError {
  readonly code = 'EVENT.UNKNOWN_TYPE';
  readonly family = 'conflict' as const;
}
export class MalformedEvent extends DomainError {
  readonly code = 'EVENT.MALFORMED';
  readonly family = 'conflict' as const;
}

/** Each type of the catalogue and the kind of stream it lives on; a type added to the catalogue must be added here (the compiler says so). */
const STREAM_OF_TYPE: Record<LifelineEventType, 'definition' | 'entity' | 'instance' | 'webhook'> = {
  DefinitionPublished: 'definition',
  DefinitionActivated: 'definition',
  DefinitionDeactivated: 'definition',
  ExecutionOrderChanged: 'definition',
  EntityEventRecorded: 'entity',
  DelayedStartScheduled: 'entity',
  DelayedStartSkipped: 'entity',
  StartFailed: 'entity',
  StartRetried: 'entity',
  ScheduleTicked: 'entity',
  InstanceStarted: 'instance',
  ActivityEntered: 'instance',
  BranchesForked: 'instance',
  BranchesJoined: 'instance',
  BranchesEnded: 'instance',
  RecordDeleted: 'instance',
  ConditionalBranchStarted: 'instance',
  SubprocessStarted: 'instance',
  SubprocessCompleted: 'instance',
  SubprocessFailed: 'instance',
  SubprocessCancelled: 'instance',
  BoundaryEventsArmed: 'instance',
  BoundaryEventsDisarmed: 'instance',
  BoundaryTriggered: 'instance',
  TaskCancelled: 'instance',
  TaskCreated: 'instance',
  TaskClaimed: 'instance',
  TaskReleased: 'instance',
  TaskReassigned: 'instance',
  TaskPostponed: 'instance',
  TaskCompleted: 'instance',
  WaitStarted: 'instance',
  WaitSatisfied: 'instance',
  WaitTimedOut: 'instance',
  DecisionTaken: 'instance',
  VariablesSet: 'instance',
  MessageEmitted: 'instance',
  IncidentRaised: 'instance',
  IncidentResolved: 'instance',
  InstanceSuspended: 'instance',
  InstanceResumed: 'instance',
  InstanceMigrated: 'instance',
  InstanceTerminated: 'instance',
  InstanceCompleted: 'instance',
  WebhookCreated: 'webhook',
  WebhookDeleted: 'webhook',
  WebhookRedeliveryRequested: 'webhook',
  JobCreated: 'instance',
  JobLocked: 'instance',
  JobLockExtended: 'instance',
  JobCompleted: 'instance',
  JobFailed: 'instance',
  JobRetryDue: 'instance',
  JobErrorThrown: 'instance',
};
const typesOf = (kind: string): Set<string> =>
  new Set(
    Object.entries(STREAM_OF_TYPE)
      .filter(([, k]) => k === kind)
      .map(([type]) => type),
  );
const DEFINITION_TYPES = typesOf('definition');
const INSTANCE_TYPES = typesOf('instance');

export const EVENT_TYPES: ReadonlySet<string> = new Set(Object.keys(STREAM_OF_TYPE));

/** Upcasters by type: an old payload shape in, the current one out. None yet: every change so far only added optional fields. */
const upcasters: Partial<Record<LifelineEventType, (data: Record<string, unknown>) => Record<string, unknown>>> = {};

/** A stored `{type, data}` as the catalogue's union; throws for an unknown type or a non-object payload. */
export function decodeEvent(stored: { type: string; data: unknown }): LifelineEvent {
  if (!EVENT_TYPES.has(stored.type)) throw new UnknownEventType(`Unknown event type ${JSON.stringify(stored.type)}`);
  const data = stored.data;
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    throw new MalformedEvent(`Event ${stored.type} has no object payload`);
  }
  const upcast = upcasters[stored.type as LifelineEventType];
  return { type: stored.type, data: upcast ? upcast(data as Record<string, unknown>) : data } as LifelineEvent;
}

/** An event of an `instance-<id>` stream. */
export function decodeInstanceEvent(stored: { type: string; data: unknown }): InstanceEvent {
  if (!INSTANCE_TYPES.has(stored.type)) throw new MalformedEvent(`${stored.type} is not an instance event`);
  return decodeEvent(stored) as InstanceEvent;
}

/** An event of a `definition-<key>` stream. */
export function decodeDefinitionEvent(stored: { type: string; data: unknown }): DefinitionEvent {
  if (!DEFINITION_TYPES.has(stored.type)) throw new MalformedEvent(`${stored.type} is not a definition event`);
  return decodeEvent(stored) as DefinitionEvent;
}

/** An event of an `entity-<Type>-<id>` stream. */
export function decodeEntityEvent(stored: { type: string; data: unknown }): EntityEvent {
  if (STREAM_OF_TYPE[stored.type as LifelineEventType] !== 'entity') {
    throw new MalformedEvent(`${stored.type} is not an event of a record stream`);
  }
  return decodeEvent(stored) as EntityEvent;
}

/** An event of a `webhook-<id>` stream. */
export function decodeWebhookEvent(stored: { type: string; data: unknown }): WebhookEvent {
  if (STREAM_OF_TYPE[stored.type as LifelineEventType] !== 'webhook') {
    throw new MalformedEvent(`${stored.type} is not an event of a webhook stream`);
  }
  return decodeEvent(stored) as WebhookEvent;
}

export const isInstanceEventType = (type: string): boolean => INSTANCE_TYPES.has(type);
export const isDefinitionEventType = (type: string): boolean => DEFINITION_TYPES.has(type);
