/**
 * The event catalogue. Type names are stable forever; when a payload changes shape, the old
 * shape moves to `*.v1.ts` and is upcast on read.
 */
import type { Assignee, FormField, ProcessDefinition, Question } from './definition/definition';
import type { EntityEventEnvelope, EntityEventSource } from './entity/envelope';

/** One metadata envelope everywhere (also carried as Kafka headers). */
export interface EventMetadata {
  /** The store's event id. */
  messageId: string;
  correlationId: string;
  causationId: string;
  /** A user id, or `system`. */
  actor: string;
  /** ISO-8601 instant. */
  at: string;
  /** Hash chain link (audit); set by the store adapter. */
  prevHash?: string;
  hash?: string;
}

export interface EntityRef {
  type: string;
  id: string;
}

type Ev<T extends string, D> = { type: T; data: D };

// ---- definition-<key> ----
export type DefinitionPublished = Ev<
  'DefinitionPublished',
  { key: string; version: number; definition: ProcessDefinition; source?: string }
>;
export type DefinitionActivated = Ev<'DefinitionActivated', { key: string }>;
export type DefinitionDeactivated = Ev<'DefinitionDeactivated', { key: string }>;
export type ExecutionOrderChanged = Ev<'ExecutionOrderChanged', { key: string; executionOrder: number }>;
export type DefinitionEvent = DefinitionPublished | DefinitionActivated | DefinitionDeactivated | ExecutionOrderChanged;

// ---- entity-<Type>-<id> ----
export type EntityEventRecorded = Ev<
  'EntityEventRecorded',
  { envelope: EntityEventEnvelope; source: EntityEventSource }
>;
export type DelayedStartScheduled = Ev<
  'DelayedStartScheduled',
  {
    instanceId: string;
    definitionKey: string;
    definitionVersion: number;
    triggerIndex: number;
    entityEventId: string;
    startAt: string;
  }
>;
/** Where starting a process for a record went wrong (docs/decisions/0004-failed-reactions.md). */
export type StartStage = 'trigger' | 'schedule' | 'start' | 'delayed-start' | 'scheduled-start';
/** A start the process manager could not make; it stays open until retried (`POST /start-failures/:id/retry`). */
export type StartFailed = Ev<
  'StartFailed',
  {
    /** The id of this event: what a retry names. */
    failureId: string;
    definitionKey: string;
    /** The version the start was decided with (0 when none was known). */
    definitionVersion: number;
    entityEventId: string;
    triggerIndex?: number;
    stage: StartStage;
    /** The instance the start would have created. */
    instanceId: string;
    code: string;
    message: string;
  }
>;
/** A failed start retried by an admin: started now, scheduled again, or the definition no longer matches. */
export type StartRetried = Ev<
  'StartRetried',
  {
    failureId: string;
    by: string;
    outcome: 'started' | 'scheduled' | 'no-match';
    definitionKey: string;
    definitionVersion: number;
    instanceId?: string;
  }
>;
/** A delayed start fell due after its definition was deactivated (or vanished): it started nothing, for good. */
export type DelayedStartSkipped = Ev<
  'DelayedStartSkipped',
  {
    instanceId: string;
    definitionKey: string;
    definitionVersion: number;
    entityEventId: string;
    reason: string;
    /** When it was due (absent in events written before it was kept). */
    startAt?: string;
  }
>;
/**
 * A tick of a definition's schedule trigger fired, on the record of its own the instance starts for
 * (`<relatedEntity>` `schedule:<key>:<tick>`). What the schedule remembers: the last tick fired.
 */
export type ScheduleTicked = Ev<
  'ScheduleTicked',
  {
    definitionKey: string;
    definitionVersion: number;
    triggerIndex: number;
    /** The tick that fired (ISO-8601, UTC). */
    tick: string;
    /** The instance it starts. */
    instanceId: string;
    /** Ticks were missed (no engine ran): the first of them; every tick from it up to `tick` (excluded) was skipped. */
    skippedFrom?: string;
    /** The tick planned after this one (absent: the expression has no further tick). */
    nextTick?: string;
  }
>;
export type EntityEvent =
  EntityEventRecorded | DelayedStartScheduled | StartFailed | StartRetried | DelayedStartSkipped | ScheduleTicked;

// ---- instance-<id> ----
export type InstanceCause =
  | { kind: 'trigger'; entityEventId: string; triggerIndex: number; delayed: boolean }
  /** Started by hand (POST /instances); `by`: who (absent in events written before it was kept). */
  | { kind: 'api'; by?: string }
  /** A tick of the definition's schedule trigger (the ScheduleTicked event on the instance's record). */
  | { kind: 'schedule'; tick: string; triggerIndex: number; skippedFrom?: string }
  /** A sub-process: started by its parent's `subprocess` activity. */
  | { kind: 'parent'; instanceId: string; activityId: string; visit: number; depth?: number };

/** A child instance's parent, on the child's events its parent reacts to (completed, terminated, incidents). */
export interface ParentRef {
  instanceId: string;
  activityId: string;
  visit: number;
}
/** On a child's events: its parent, and its own record (where the reactions find its waits and timers). */
export type OfChild = { parent?: ParentRef; entity?: EntityRef };

export type InstanceStarted = Ev<
  'InstanceStarted',
  {
    instanceId: string;
    definitionKey: string;
    definitionVersion: number;
    definitionName: string;
    entity: EntityRef;
    variables: Record<string, unknown>;
    cause: InstanceCause;
    /** The definition's `onRecordDeleted` when it is not `continue`: the reactions then watch the record for it. */
    onRecordDeleted?: 'terminate' | { next: string };
    /** The definition has conditional starts: every entity event of the record reaches the instance. */
    watchesRecord?: true;
  }
>;
/** A conditional start's `when` held for an entity event of the record: a new line starts at `next`. */
export type ConditionalBranchStarted = Ev<
  'ConditionalBranchStarted',
  {
    index: number;
    token: string;
    next: string;
    expression: string;
    seen: Record<string, unknown>;
    entityEventId?: string;
  }
>;
/**
 * The instance's record was deleted and its definition says what follows: `terminate` (InstanceTerminated follows),
 * or `next`: every line is left (open tasks and jobs cancelled, waits ended) and the flow goes on at `next`, at once
 * or, for a suspended instance, when it is resumed.
 */
export type RecordDeleted = Ev<
  'RecordDeleted',
  { entityEventId?: string; policy: 'terminate' | 'next'; next?: string }
>;
/**
 * Which line of the flow an event moves. Absent: the main line (every event written before parallel
 * branches existed); otherwise a branch `<forkActivity>.<visit>.<index>` made by `BranchesForked`.
 */
export type OnToken = { token?: string };
export type ActivityEntered = Ev<
  'ActivityEntered',
  { activityId: string; activityType: string; visit: number } & OnToken
>;
/**
 * A fork (a `parallel` or `inclusive` activity, or a `next` that lists several) started these branches;
 * the line that reached it rests until they meet at a join.
 */
export type BranchesForked = Ev<
  'BranchesForked',
  {
    activityId: string;
    visit: number;
    /** `<activityId>.<visit>`: one per entry of the fork, what its join counts arrivals against. */
    forkId: string;
    branches: { token: string; next: string }[];
    /** An inclusive fork: the conditions that held (`otherwise`: none) and the values they saw (the audit's "why"). */
    expressions?: string[];
    seen?: Record<string, unknown>;
  } & OnToken
>;
/** Every branch of one fork entry still running reached the join: they end and the line that forked goes on. */
export type BranchesJoined = Ev<
  'BranchesJoined',
  { activityId: string; visit: number; forkId: string; tokens: string[]; next: string | string[] } & OnToken
>;
/** Every branch of one fork entry ended at an end before any join: the line that forked ends with them. */
export type BranchesEnded = Ev<
  'BranchesEnded',
  { activityId: string; forkId: string; endActivityId: string } & OnToken
>;
export type TaskCreated = Ev<
  'TaskCreated',
  {
    taskId: string;
    activityId: string;
    title: string;
    instructions?: string;
    hint?: string;
    /** Exactly one of user / role is set after resolving the activity's assignee. */
    assignee: { user?: string; role?: string };
    startAt: string;
    dueAt?: string;
    results?: string[];
    form?: FormField[];
    question?: Question;
    /** The definition's assignee rule, kept for the audit. */
    rule: Assignee;
  } & OnToken
>;
/**
 * A task or wait with boundary events was entered: its timers are due at these instants, and with
 * `watches` the record's updates are checked against its conditions (the reactions keep both on the record).
 */
export type BoundaryEventsArmed = Ev<
  'BoundaryEventsArmed',
  {
    activityId: string;
    visit: number;
    entity: EntityRef;
    /** `index` into the activity's `boundary` list. */
    timers: { index: number; dueAt: string }[];
    watches: boolean;
  } & OnToken
>;
/** The activity was left (completed, satisfied, timed out, interrupted): its boundary timers and conditions end. */
export type BoundaryEventsDisarmed = Ev<'BoundaryEventsDisarmed', { activityId: string; visit: number } & OnToken>;
/**
 * A boundary event happened. Interrupting (`next`): the task is cancelled (or the wait left) and the line goes
 * on at `next`. Not interrupting: the task was reassigned or a reminder is due; `nextDueAt` when it repeats.
 */
export type BoundaryTriggered = Ev<
  'BoundaryTriggered',
  {
    activityId: string;
    visit: number;
    index: number;
    kind: 'timer' | 'condition';
    interrupting: boolean;
    next?: string;
    reassign?: { user?: string; role?: string };
    remind?: boolean;
    /** The timer's due time that fired; the next one when it repeats. */
    dueAt?: string;
    nextDueAt?: string;
    /** A condition: the expression, the values it saw and the entity event that made it true. */
    expression?: string;
    seen?: Record<string, unknown>;
    entityEventId?: string;
  } & OnToken
>;
/** The task ended without being done: a boundary event interrupted it. */
export type TaskCancelled = Ev<'TaskCancelled', { taskId: string; activityId: string; reason: string }>;
export type TaskClaimed = Ev<'TaskClaimed', { taskId: string; user: string }>;
export type TaskReleased = Ev<'TaskReleased', { taskId: string; user: string; role?: string }>;
export type TaskReassigned = Ev<
  'TaskReassigned',
  { taskId: string; from: { user?: string; role?: string }; to: { user?: string; role?: string } }
>;
export type TaskPostponed = Ev<'TaskPostponed', { taskId: string; until: string; dueAt?: string }>;
export type TaskCompleted = Ev<
  'TaskCompleted',
  {
    taskId: string;
    activityId: string;
    user: string;
    result?: string;
    fields: Record<string, unknown>;
    answers?: string[];
    /** Completed by its record (`completeWhen`): the condition, the values it saw, and the entity event that made it true. */
    byRecord?: { expression: string; seen: Record<string, unknown>; entityEventId?: string };
  }
>;
export type WaitStarted = Ev<
  'WaitStarted',
  {
    activityId: string;
    visit: number;
    until?: string;
    timeoutAt?: string;
    entity: EntityRef;
    /** The envelope whose data `until` was evaluated against on entry (absent: none, or written before it was kept). */
    seenEntityEventId?: string;
  } & OnToken
>;
export type WaitSatisfied = Ev<
  'WaitSatisfied',
  {
    activityId: string;
    visit: number;
    /** The expression and the values it saw (the audit's "why"). */
    expression: string;
    seen: Record<string, unknown>;
    /** The entity event that made it true; absent when it already held on entry. */
    entityEventId?: string;
    entitySource?: EntityEventSource;
  }
>;
export type WaitTimedOut = Ev<
  'WaitTimedOut',
  { activityId: string; visit: number; timeoutAt: string; next: string | string[] }
>;
export type DecisionTaken = Ev<
  'DecisionTaken',
  {
    activityId: string;
    /** Index of the branch that fired, or -1 for `otherwise`. */
    branch: number;
    expression?: string;
    next: string;
    seen: Record<string, unknown>;
  }
>;
export type VariablesSet = Ev<'VariablesSet', { activityId: string; variables: Record<string, unknown> }>;
export type MessageEmitted = Ev<
  'MessageEmitted',
  { activityId: string; topic: string; messageType: string; key: string; payload: Record<string, unknown> }
>;
export type IncidentRaised = Ev<
  'IncidentRaised',
  {
    incidentId: string;
    activityId: string;
    code: string;
    message: string;
    expression?: string;
    /** A parent's incident that mirrors one of its child's (retried on the child). */
    child?: { instanceId: string; incidentId: string };
  } & OnToken &
    OfChild
>;
export type IncidentResolved = Ev<'IncidentResolved', { incidentId: string; activityId: string; by: string } & OfChild>;
export type InstanceSuspended = Ev<'InstanceSuspended', { by: string; reason?: string }>;
export type InstanceResumed = Ev<'InstanceResumed', { by: string }>;
/**
 * An admin moved the instance to another version of its definition (README, "Migrating running instances"):
 * every line, task, job, wait and incident at a `mapping` key now rests at its value; ids stay as they were.
 */
export type InstanceMigrated = Ev<
  'InstanceMigrated',
  {
    fromVersion: number;
    toVersion: number;
    /** Only the entries used, and only those that rename (an activity kept as it is is not listed). */
    mapping: Record<string, string>;
    by: string;
    entity: EntityRef;
  }
>;
export type InstanceTerminated = Ev<'InstanceTerminated', { by: string; reason?: string } & OfChild>;
export type InstanceCompleted = Ev<
  'InstanceCompleted',
  {
    endActivityId: string;
    /** A child's variables as it ended, for its parent's `outputs`. */
    variables?: Record<string, unknown>;
  } & OfChild
>;
/** A `subprocess` activity started a child instance (the reactions start it). */
export type SubprocessStarted = Ev<
  'SubprocessStarted',
  {
    activityId: string;
    visit: number;
    childInstanceId: string;
    definitionKey: string;
    /** Pinned by the activity; absent: the latest when the child starts. */
    definitionVersion?: number;
    entity: EntityRef;
    variables: Record<string, unknown>;
    /** How deep the child is: 1 for a child of a top-level instance. */
    depth: number;
  } & OnToken
>;
/** The child completed: its outputs are the parent's variables now, and the line goes on. */
export type SubprocessCompleted = Ev<
  'SubprocessCompleted',
  { activityId: string; visit: number; childInstanceId: string; variables: Record<string, unknown> } & OnToken
>;
/** The child could not start or was terminated: an incident at the activity follows; a retry starts a new child. */
export type SubprocessFailed = Ev<
  'SubprocessFailed',
  { activityId: string; visit: number; childInstanceId: string; code: string; message: string } & OnToken
>;
/** The parent ended (or left the activity) while the child ran: the child is terminated. */
export type SubprocessCancelled = Ev<
  'SubprocessCancelled',
  { activityId: string; childInstanceId: string; entity: EntityRef; reason: string }
>;

// ---- jobs of service activities (docs/decisions/0007-jobs.md) ----
/** A service activity's job: offered to workers of its type until one locks it. */
export type JobCreated = Ev<
  'JobCreated',
  {
    /** `<instanceId>.<activityId>.<visit>.<n>`: the n-th job of that visit (an incident retry makes another). */
    jobId: string;
    activityId: string;
    visit: number;
    jobType: string;
    /** Failures it may have before an incident. */
    retries: number;
    /** What the worker gets: the activity's `inputs`, evaluated, or the process variables. */
    inputs: Record<string, unknown>;
    entity: EntityRef;
  } & OnToken
>;
/** A worker took the job until `lockExpiresAt`; after that it is offered again, and the next lock supersedes this one. */
export type JobLocked = Ev<'JobLocked', { jobId: string; workerId: string; lockExpiresAt: string }>;
/** The worker holding the job said it is still at it (a heartbeat). */
export type JobLockExtended = Ev<'JobLockExtended', { jobId: string; workerId: string; lockExpiresAt: string }>;
export type JobCompleted = Ev<
  'JobCompleted',
  { jobId: string; activityId: string; workerId: string; variables: Record<string, unknown> }
>;
/** A worker could not do the job. With retries left it is offered again (after `retryAt`, if set); at 0, an incident follows. */
export type JobFailed = Ev<
  'JobFailed',
  {
    jobId: string;
    activityId: string;
    jobType: string;
    workerId: string;
    error: string;
    /** Failures it may still have. */
    retries: number;
    /** Not offered before this instant (the backoff); absent: at once. */
    retryAt?: string;
    /** The record, whose reaction state keeps the backoff's timer. */
    entity: EntityRef;
  }
>;
/** The backoff after a failure has passed: the job is offered again. */
export type JobRetryDue = Ev<'JobRetryDue', { jobId: string; activityId: string; jobType: string }>;
/** A worker reported a business error: the flow takes the path declared for `code` (`next`), or an incident. */
export type JobErrorThrown = Ev<
  'JobErrorThrown',
  {
    jobId: string;
    activityId: string;
    workerId: string;
    code: string;
    message?: string;
    variables: Record<string, unknown>;
    next?: string;
  }
>;
export type JobEvent =
  JobCreated | JobLocked | JobLockExtended | JobCompleted | JobFailed | JobRetryDue | JobErrorThrown;

export type InstanceEvent =
  | InstanceStarted
  | ActivityEntered
  | BranchesForked
  | BranchesJoined
  | BranchesEnded
  | RecordDeleted
  | ConditionalBranchStarted
  | SubprocessStarted
  | SubprocessCompleted
  | SubprocessFailed
  | SubprocessCancelled
  | BoundaryEventsArmed
  | BoundaryEventsDisarmed
  | BoundaryTriggered
  | TaskCancelled
  | TaskCreated
  | TaskClaimed
  | TaskReleased
  | TaskReassigned
  | TaskPostponed
  | TaskCompleted
  | WaitStarted
  | WaitSatisfied
  | WaitTimedOut
  | DecisionTaken
  | VariablesSet
  | MessageEmitted
  | IncidentRaised
  | IncidentResolved
  | InstanceSuspended
  | InstanceResumed
  | InstanceMigrated
  | InstanceTerminated
  | InstanceCompleted
  | JobEvent;

// ---- webhook-<id> ----
/** An admin subscribed a URL to Lifeline's events; `secret` (whsec_…) signs every delivery. */
export type WebhookCreated = Ev<
  'WebhookCreated',
  { webhookId: string; url: string; events: string[]; secret: string; description?: string }
>;
export type WebhookDeleted = Ev<'WebhookDeleted', { webhookId: string; by: string }>;
/** An admin asked for a delivery (its id is the message id) to be sent again, dead or not. */
export type WebhookRedeliveryRequested = Ev<
  'WebhookRedeliveryRequested',
  { webhookId: string; deliveryId: string; by: string }
>;
export type WebhookEvent = WebhookCreated | WebhookDeleted | WebhookRedeliveryRequested;

export type LifelineEvent = DefinitionEvent | EntityEvent | InstanceEvent | WebhookEvent;
export type LifelineEventType = LifelineEvent['type'];

/** Stream names (docs/architecture.md, "Streams and events"). */
export const streams = {
  definition: (key: string) => `definition-${key}`,
  entity: (entityType: string, entityId: string) => `entity-${entityType}-${entityId}`,
  instance: (instanceId: string) => `instance-${instanceId}`,
  webhook: (webhookId: string) => `webhook-${webhookId}`,
} as const;

export const STREAM_PREFIXES = ['definition-', 'entity-', 'instance-', 'webhook-'] as const;
