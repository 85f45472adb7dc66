import type { EntityEventEnvelope, EntityEventSource } from '../entity/envelope';
import { isScheduleTrigger, type ScheduleTrigger } from '../definition/definition';
import { latestTickAtOrBefore, nextTickAfter } from '../definition/schedule';
import type { DelayedStartScheduled, LifelineEvent, ScheduleTicked } from '../events';
import type {
  CheckWait,
  CompleteSubprocess,
  FailSubprocess,
  FireBoundaryTimer,
  FireJobRetry,
  FireWaitTimeout,
  MirrorChildIncident,
  StartInstance,
  TerminateInstance,
} from '../instance/commands';
import { matchTriggers } from '../triggers/match-triggers';
import { candidateDefinitions } from '../triggers/trigger-index';
import { delayedStartAt } from './start-reactions';
import {
  activeOf,
  boundaryTimerId,
  boundaryWatchKey,
  definitionsStateOf,
  deletionWatchKey,
  delayedStartTimerId,
  recordWatchKey,
  evolveDefinitions,
  initialRecordState,
  instanceOfWaitKey,
  jobRetryTimerId,
  recordWaitKey,
  waitingInstances,
  waitTimeoutTimerId,
  type DefinitionEntry,
  type DefinitionsState,
  type RecordState,
  type RecordTimer,
  type ScheduleState,
} from './state';

/**
 * The reactions decider: the engine's policy for what follows from a recorded event, as data.
 * Given an event of the log and the state it concerns (the definitions, the record), it returns
 * the commands to send: start these definitions for the record in execution order, check these
 * waits, schedule this delayed start. `evolveRecord` and `evolveDefinitions` fold the same events
 * into the state, and `decideTimer` says what a due timer does. The runner that applies the
 * reactions holds no rule of its own; `what-if` runs this same decider in memory.
 */

/** An event as the log recorded it: the reactions derive their ids and times from it alone. */
export interface LoggedEvent {
  /** The store's event id. */
  id: string;
  streamId: string;
  /** When it was recorded (metadata.at). */
  at: string;
  correlationId: string;
  /** The W3C trace context it was recorded in: the reactions it causes carry it on. */
  traceparent?: string;
  event: LifelineEvent;
}

/** Where a reaction comes from: its deterministic command id, and the event that caused it. */
export interface ReactionOrigin {
  commandId: string;
  causationId: string;
  correlationId: string;
  /** The recorded time the ids of what it appends derive from (the causing event's, or a timer's due time). */
  idTime: string;
  traceparent?: string;
}

export type Reaction =
  | {
      type: 'StartInstance';
      command: StartInstance;
      /** The record as the start sees it. */
      entityData: Record<string, unknown>;
      /** The envelope `entityData` comes from. */
      entityEventId?: string;
      origin: ReactionOrigin;
    }
  | {
      type: 'RunInstanceCommand';
      instanceId: string;
      command:
        | CheckWait
        | FireWaitTimeout
        | FireJobRetry
        | FireBoundaryTimer
        | TerminateInstance
        | CompleteSubprocess
        | FailSubprocess
        | MirrorChildIncident;
      /** The record as the command sees it; absent: the runner reads the instance's record (a child's report to its parent). */
      entityData?: Record<string, unknown>;
      entityEventId?: string;
      origin: ReactionOrigin;
    }
  | {
      /** Append `DelayedStartScheduled` to the record's stream: the timer is then part of its state. */
      type: 'ScheduleDelayedStart';
      streamId: string;
      data: DelayedStartScheduled['data'];
      origin: ReactionOrigin;
    }
  | {
      /** A delayed start fell due after its definition was deactivated: it starts nothing. */
      type: 'SkipDelayedStart';
      streamId: string;
      timer: RecordTimer & { kind: 'delayed-start' };
      reason: string;
      origin: ReactionOrigin;
    }
  | {
      /** A tick of a definition's schedule is due: append `ScheduleTicked` to the tick's record; its start follows from that event. */
      type: 'RecordScheduleTick';
      streamId: string;
      data: ScheduleTicked['data'];
      origin: ReactionOrigin;
    }
  | {
      /** A trigger could not be evaluated (or its delay computed) for this envelope; nothing started. */
      type: 'TriggerFailed';
      stage: 'trigger' | 'schedule';
      streamId: string;
      definitionVersion: number;
      /** The instance the start would have created (a retry creates it under this id). */
      instanceId: string;
      definitionKey: string;
      triggerIndex: number;
      entityEventId: string;
      code: string;
      message: string;
      origin: ReactionOrigin;
    };

export interface ReactionContext {
  /** A deterministic id for a name and a recorded time (the same pair always gives the same id). */
  idFor(name: string, at: string): string;
}

export interface ReactionState {
  definitions: DefinitionsState;
  /** The state of the record the event concerns, if it has one yet. */
  record: RecordState | undefined;
}

const instanceIdOf = (streamId: string): string | undefined =>
  streamId.startsWith('instance-') ? streamId.slice('instance-'.length) : undefined;

/** The instance a trigger starts: one per envelope and definition. */
export const startedInstanceName = (definitionKey: string, envelopeId: string): string =>
  `start:${definitionKey}:${envelopeId}`;

/** What a recorded event leads to. Pure: the same event and state always give the same reactions. */
export function decideReactions(logged: LoggedEvent, state: ReactionState, context: ReactionContext): Reaction[] {
  const { event } = logged;
  switch (event.type) {
    case 'EntityEventRecorded':
      return onEntityEvent(logged, event.data.envelope, event.data.source, state, context);
    case 'SubprocessStarted':
      return startChild(logged, event, state);
    case 'SubprocessCancelled': {
      const record = state.record;
      return [
        {
          type: 'RunInstanceCommand',
          instanceId: event.data.childInstanceId,
          command: { type: 'TerminateInstance', reason: event.data.reason, ifRunning: true },
          entityData: record?.data ?? {},
          origin: origin(`cancel-child:${logged.id}`, logged),
        },
      ];
    }
    case 'InstanceCompleted':
    case 'InstanceTerminated':
    case 'IncidentRaised':
    case 'IncidentResolved':
      return reportToParent(logged, event);
    case 'ScheduleTicked':
      return startForTick(logged, event);
    case 'WaitStarted': {
      const instanceId = instanceIdOf(logged.streamId);
      const record = state.record;
      if (!instanceId || !record || event.data.until === undefined) return [];
      // The decision that entered the wait saw one version of the record; a newer one must be checked.
      if (event.data.seenEntityEventId !== undefined && event.data.seenEntityEventId === record.lastEntityEventId)
        return [];
      if (event.data.seenEntityEventId === undefined && record.lastEntityEventId === undefined) return [];
      return [
        {
          type: 'RunInstanceCommand',
          instanceId,
          command: { type: 'CheckWait' },
          entityData: record.data,
          ...(record.lastEntityEventId !== undefined ? { entityEventId: record.lastEntityEventId } : {}),
          origin: origin(`check-wait-on-start:${logged.id}`, logged),
        },
      ];
    }
    default:
      return [];
  }
}

/** A `subprocess` activity started a child: start it (latest or pinned version), or tell the parent why not. */
function startChild(
  logged: LoggedEvent,
  event: Extract<LifelineEvent, { type: 'SubprocessStarted' }>,
  state: ReactionState,
): Reaction[] {
  const parent = instanceIdOf(logged.streamId);
  if (!parent) return [];
  const d = event.data;
  const entry = state.definitions.byKey[d.definitionKey];
  const refuse = (code: string, message: string): Reaction[] => [
    {
      type: 'RunInstanceCommand',
      instanceId: parent,
      command: { type: 'FailSubprocess', childInstanceId: d.childInstanceId, code, message },
      origin: origin(`child-refused:${logged.id}`, logged),
    },
  ];
  if (!entry) return refuse('SUBPROCESS.UNKNOWN_DEFINITION', `No definition ${d.definitionKey} is published`);
  if (d.definitionVersion === undefined && !entry.enabled) {
    return refuse('SUBPROCESS.DEFINITION_DISABLED', `${d.definitionKey} is deactivated (pin a version to run it)`);
  }
  if (d.definitionVersion !== undefined && d.definitionVersion > entry.version) {
    return refuse('SUBPROCESS.UNKNOWN_VERSION', `${d.definitionKey} has no version ${d.definitionVersion}`);
  }
  if (entry.definition.relatedEntity !== d.entity.type) {
    return refuse(
      'SUBPROCESS.WRONG_RECORD_TYPE',
      `${d.definitionKey} runs for ${entry.definition.relatedEntity} records, not ${d.entity.type}`,
    );
  }
  const record = state.record;
  return [
    {
      type: 'StartInstance',
      command: {
        type: 'StartInstance',
        instanceId: d.childInstanceId,
        definitionKey: d.definitionKey,
        definitionVersion: d.definitionVersion ?? entry.version,
        entity: d.entity,
        variables: d.variables,
        cause: { kind: 'parent', instanceId: parent, activityId: d.activityId, visit: d.visit, depth: d.depth },
      },
      entityData: record?.data ?? {},
      ...(record?.lastEntityEventId !== undefined ? { entityEventId: record.lastEntityEventId } : {}),
      origin: origin(`start-child:${logged.id}`, logged),
    },
  ];
}

/** A child's completion, termination or incident goes to its parent (whose record the runner reads itself). */
function reportToParent(logged: LoggedEvent, event: LifelineEvent): Reaction[] {
  const child = instanceIdOf(logged.streamId);
  const parent = (event.data as { parent?: { instanceId: string } }).parent;
  if (!child || !parent) return [];
  const to = (command: CompleteSubprocess | FailSubprocess | MirrorChildIncident): Reaction[] => [
    {
      type: 'RunInstanceCommand',
      instanceId: parent.instanceId,
      command,
      origin: origin(`to-parent:${logged.id}`, logged),
    },
  ];
  switch (event.type) {
    case 'InstanceCompleted':
      return to({ type: 'CompleteSubprocess', childInstanceId: child, variables: event.data.variables ?? {} });
    case 'InstanceTerminated':
      return to({
        type: 'FailSubprocess',
        childInstanceId: child,
        code: 'SUBPROCESS.TERMINATED',
        message: `the child was terminated by ${event.data.by}${event.data.reason ? `: ${event.data.reason}` : ''}`,
      });
    case 'IncidentRaised':
    case 'IncidentResolved':
      return to({
        type: 'MirrorChildIncident',
        childInstanceId: child,
        incidentId: event.data.incidentId,
        code: event.type === 'IncidentRaised' ? event.data.code : '',
        message: event.type === 'IncidentRaised' ? event.data.message : '',
        resolved: event.type === 'IncidentResolved',
      });
    default:
      return [];
  }
}

function origin(commandId: string, logged: LoggedEvent): ReactionOrigin {
  return {
    commandId,
    causationId: logged.id,
    correlationId: logged.correlationId,
    idTime: logged.at,
    ...(logged.traceparent !== undefined ? { traceparent: logged.traceparent } : {}),
  };
}

function onEntityEvent(
  logged: LoggedEvent,
  envelope: EntityEventEnvelope,
  source: EntityEventSource,
  state: ReactionState,
  context: ReactionContext,
): Reaction[] {
  const reactions: Reaction[] = [];
  const candidates = candidateDefinitions(state.definitions.index, envelope);
  const { matches, errors } = matchTriggers(candidates, envelope, logged.at);
  for (const error of errors) {
    reactions.push({
      type: 'TriggerFailed',
      stage: 'trigger',
      streamId: logged.streamId,
      definitionVersion: state.definitions.byKey[error.definitionKey]?.version ?? 0,
      instanceId: context.idFor(startedInstanceName(error.definitionKey, envelope.id), logged.at),
      definitionKey: error.definitionKey,
      triggerIndex: error.triggerIndex,
      entityEventId: envelope.id,
      code: error.code,
      message: error.message,
      origin: origin(`trigger-failed:${error.definitionKey}:${logged.id}`, logged),
    });
  }
  // Smaller execution order first; each start is decided before the next.
  for (const match of matches) {
    const instanceId = context.idFor(startedInstanceName(match.definitionKey, envelope.id), logged.at);
    if (match.delay !== undefined) {
      const due = delayedStartAt(logged.at, match.delay);
      if (!due.ok) {
        reactions.push({
          type: 'TriggerFailed',
          stage: 'schedule',
          streamId: logged.streamId,
          definitionVersion: match.definitionVersion,
          instanceId,
          definitionKey: match.definitionKey,
          triggerIndex: match.triggerIndex,
          entityEventId: envelope.id,
          code: due.code,
          message: due.message,
          origin: origin(`trigger-failed:${match.definitionKey}:${logged.id}`, logged),
        });
        continue;
      }
      const startAt = due.startAt;
      reactions.push({
        type: 'ScheduleDelayedStart',
        streamId: logged.streamId,
        data: {
          instanceId,
          definitionKey: match.definitionKey,
          definitionVersion: match.definitionVersion,
          triggerIndex: match.triggerIndex,
          entityEventId: envelope.id,
          startAt,
        },
        origin: origin(`delay:${match.definitionKey}:${logged.id}`, logged),
      });
      continue;
    }
    reactions.push({
      type: 'StartInstance',
      command: {
        type: 'StartInstance',
        instanceId,
        definitionKey: match.definitionKey,
        definitionVersion: match.definitionVersion,
        entity: { type: envelope.entityType, id: envelope.entityId },
        variables: {},
        cause: { kind: 'trigger', entityEventId: envelope.id, triggerIndex: match.triggerIndex, delayed: false },
      },
      entityData: envelope.data,
      entityEventId: envelope.id,
      origin: origin(`start:${match.definitionKey}:${logged.id}`, logged),
    });
  }
  // The instances already waiting on this record see the new version of it.
  // An instance that only watches for a deletion is not woken by other entity events.
  const deleting = envelope.kind === 'deleted';
  for (const instanceId of waitingInstances(state.record, deleting)) {
    reactions.push({
      type: 'RunInstanceCommand',
      instanceId,
      command: {
        type: 'CheckWait',
        entityEventId: envelope.id,
        entitySource: source,
        ...(envelope.kind === 'deleted' ? { recordDeleted: true as const } : {}),
      },
      entityData: envelope.data,
      entityEventId: envelope.id,
      origin: origin(`check-wait:${instanceId}:${logged.id}`, logged),
    });
  }
  return reactions;
}

/** What a due timer does. `timer` is one of `record.timers`. */
export function decideTimer(timer: RecordTimer, state: ReactionState & { record: RecordState }): Reaction[] {
  const { record } = state;
  const timerOrigin: ReactionOrigin = {
    commandId: `timer:${timer.timerId}`,
    causationId: timer.causationId,
    correlationId: timer.correlationId,
    idTime: timer.dueAt,
  };
  if (timer.kind === 'delayed-start') {
    const entry = state.definitions.byKey[timer.definitionKey];
    // A deactivated definition starts nothing, also what it scheduled before (README: triggers).
    if (!entry || !entry.enabled) {
      return [
        {
          type: 'SkipDelayedStart',
          streamId: `entity-${record.entity.type}-${record.entity.id}`,
          timer,
          reason: entry ? 'the definition is deactivated' : 'the definition is unknown',
          origin: timerOrigin,
        },
      ];
    }
    return [
      {
        type: 'StartInstance',
        command: {
          type: 'StartInstance',
          instanceId: timer.instanceId,
          definitionKey: timer.definitionKey,
          definitionVersion: timer.definitionVersion,
          entity: record.entity,
          variables: {},
          cause: {
            kind: 'trigger',
            entityEventId: timer.entityEventId,
            triggerIndex: timer.triggerIndex,
            delayed: true,
          },
        },
        entityData: record.data,
        ...(record.lastEntityEventId !== undefined ? { entityEventId: record.lastEntityEventId } : {}),
        origin: timerOrigin,
      },
    ];
  }
  if (timer.kind === 'boundary') {
    return [
      {
        type: 'RunInstanceCommand',
        instanceId: timer.instanceId,
        command: {
          type: 'FireBoundaryTimer',
          activityId: timer.activityId,
          visit: timer.visit,
          index: timer.index,
          dueAt: timer.dueAt,
        },
        entityData: record.data,
        ...(record.lastEntityEventId !== undefined ? { entityEventId: record.lastEntityEventId } : {}),
        origin: timerOrigin,
      },
    ];
  }
  if (timer.kind === 'job-retry') {
    return [
      {
        type: 'RunInstanceCommand',
        instanceId: timer.instanceId,
        command: { type: 'FireJobRetry', jobId: timer.jobId },
        entityData: record.data,
        ...(record.lastEntityEventId !== undefined ? { entityEventId: record.lastEntityEventId } : {}),
        origin: timerOrigin,
      },
    ];
  }
  return [
    {
      type: 'RunInstanceCommand',
      instanceId: timer.instanceId,
      command: { type: 'FireWaitTimeout', activityId: timer.activityId, visit: timer.visit },
      entityData: record.data,
      ...(record.lastEntityEventId !== undefined ? { entityEventId: record.lastEntityEventId } : {}),
      origin: timerOrigin,
    },
  ];
}

/**
 * Folds an event into the state of the record it concerns. `state` is that record's state
 * (undefined before its first event); events that change nothing return it as it was.
 */
export function evolveRecord(state: RecordState | undefined, logged: LoggedEvent): RecordState | undefined {
  const { event } = logged;
  const instanceId = instanceIdOf(logged.streamId);
  switch (event.type) {
    case 'EntityEventRecorded': {
      const envelope = event.data.envelope;
      // Written out: `{ ...base, kind }` adds fields `base` may lack, which V8 makes a slow path of microseconds.
      return {
        entity: state?.entity ?? { type: envelope.entityType, id: envelope.entityId },
        data: envelope.data,
        kind: envelope.kind,
        lastEntityEventId: envelope.id,
        waits: state?.waits ?? {},
        timers: state?.timers ?? {},
      };
    }
    case 'DelayedStartScheduled': {
      if (!state) return state;
      const d = event.data;
      const timerId = delayedStartTimerId(d.instanceId);
      return {
        ...state,
        timers: {
          ...state.timers,
          [timerId]: {
            kind: 'delayed-start',
            timerId,
            dueAt: new Date(Date.parse(d.startAt)).toISOString(),
            instanceId: d.instanceId,
            definitionKey: d.definitionKey,
            definitionVersion: d.definitionVersion,
            triggerIndex: d.triggerIndex,
            entityEventId: d.entityEventId,
            causationId: logged.id,
            correlationId: logged.correlationId,
          },
        },
      };
    }
    case 'DelayedStartSkipped':
      return state ? withoutTimer(state, delayedStartTimerId(event.data.instanceId)) : state;
    case 'InstanceStarted': {
      if (!instanceId) return state;
      const onDelete = event.data.onRecordDeleted;
      const after = state ? withoutTimer(state, delayedStartTimerId(instanceId)) : state;
      if (onDelete === undefined && event.data.watchesRecord === undefined) return after;
      // Its definition says what a deletion does, or starts branches on entity events: the record's events reach it.
      const base = after ?? initialRecordState(event.data.entity);
      const waits = { ...base.waits };
      if (onDelete !== undefined) waits[deletionWatchKey(instanceId)] = { activityId: '', visit: 0 };
      if (event.data.watchesRecord) waits[recordWatchKey(instanceId)] = { activityId: '', visit: 0 };
      return { ...base, waits };
    }
    case 'RecordDeleted': {
      if (!state || !instanceId || !(deletionWatchKey(instanceId) in state.waits)) return state;
      const waits = { ...state.waits };
      delete waits[deletionWatchKey(instanceId)];
      return { ...state, waits };
    }
    case 'WaitStarted': {
      if (!instanceId) return state;
      const d = event.data;
      const base = state ?? initialRecordState(d.entity);
      const waits =
        d.until !== undefined
          ? {
              ...base.waits,
              [recordWaitKey(instanceId, d.token)]: { activityId: d.activityId, visit: d.visit, until: d.until },
            }
          : base.waits;
      if (d.timeoutAt === undefined) return { ...base, waits };
      const timerId = waitTimeoutTimerId(instanceId, d.activityId, d.visit);
      return {
        ...base,
        waits,
        timers: {
          ...base.timers,
          [timerId]: {
            kind: 'wait-timeout',
            timerId,
            dueAt: new Date(Date.parse(d.timeoutAt)).toISOString(),
            instanceId,
            activityId: d.activityId,
            visit: d.visit,
            paused: false,
            causationId: logged.id,
            correlationId: logged.correlationId,
          },
        },
      };
    }
    case 'WaitSatisfied':
    case 'WaitTimedOut': {
      if (!state || !instanceId) return state;
      const { activityId, visit } = event.data;
      let next = withoutTimer(state, waitTimeoutTimerId(instanceId, activityId, visit));
      for (const [key, wait] of Object.entries(state.waits)) {
        if (instanceOfWaitKey(key) === instanceId && wait.activityId === activityId && wait.visit === visit) {
          const waits = { ...next.waits };
          delete waits[key];
          next = { ...next, waits };
        }
      }
      return next;
    }
    case 'JobFailed': {
      const d = event.data;
      if (!instanceId || d.retryAt === undefined) return state;
      const base = state ?? initialRecordState(d.entity);
      const timerId = jobRetryTimerId(d.jobId);
      return {
        ...base,
        timers: {
          ...base.timers,
          [timerId]: {
            kind: 'job-retry',
            timerId,
            dueAt: new Date(Date.parse(d.retryAt)).toISOString(),
            instanceId,
            jobId: d.jobId,
            causationId: logged.id,
            correlationId: logged.correlationId,
          },
        },
      };
    }
    case 'JobRetryDue':
      return state ? withoutTimer(state, jobRetryTimerId(event.data.jobId)) : state;
    case 'BoundaryEventsArmed': {
      if (!instanceId) return state;
      const d = event.data;
      const base = state ?? initialRecordState(d.entity);
      const timers = { ...base.timers };
      for (const { index, dueAt } of d.timers) {
        const timerId = boundaryTimerId(instanceId, d.activityId, d.visit, index);
        timers[timerId] = {
          kind: 'boundary',
          timerId,
          dueAt: new Date(Date.parse(dueAt)).toISOString(),
          instanceId,
          activityId: d.activityId,
          visit: d.visit,
          index,
          paused: false,
          causationId: logged.id,
          correlationId: logged.correlationId,
        };
      }
      const waits = d.watches
        ? {
            ...base.waits,
            [boundaryWatchKey(instanceId, d.activityId, d.visit)]: { activityId: d.activityId, visit: d.visit },
          }
        : base.waits;
      return { ...base, waits, timers };
    }
    case 'BoundaryTriggered': {
      if (!state || !instanceId) return state;
      const d = event.data;
      if (d.interrupting) return withoutBoundaries(state, instanceId, d.activityId, d.visit);
      if (d.kind !== 'timer') return state;
      const timerId = boundaryTimerId(instanceId, d.activityId, d.visit, d.index);
      const timer = state.timers[timerId];
      if (!timer) return state;
      if (d.nextDueAt === undefined) return withoutTimer(state, timerId);
      return {
        ...state,
        timers: {
          ...state.timers,
          [timerId]: {
            ...timer,
            dueAt: new Date(Date.parse(d.nextDueAt)).toISOString(),
            causationId: logged.id,
            correlationId: logged.correlationId,
          },
        },
      };
    }
    case 'BoundaryEventsDisarmed':
      return state && instanceId
        ? withoutBoundaries(state, instanceId, event.data.activityId, event.data.visit)
        : state;
    case 'InstanceSuspended':
    case 'InstanceResumed': {
      if (!state || !instanceId) return state;
      const paused = event.type === 'InstanceSuspended';
      let changed = false;
      const timers: RecordState['timers'] = {};
      for (const [id, timer] of Object.entries(state.timers)) {
        if (
          (timer.kind === 'wait-timeout' || timer.kind === 'boundary') &&
          timer.instanceId === instanceId &&
          timer.paused !== paused
        ) {
          timers[id] = { ...timer, paused };
          changed = true;
        } else timers[id] = timer;
      }
      return changed ? { ...state, timers } : state;
    }
    case 'InstanceMigrated':
      return state && instanceId ? migratedRecord(state, instanceId, event.data.mapping) : state;
    case 'InstanceCompleted':
    case 'InstanceTerminated': {
      if (!state || !instanceId) return state;
      const waits: RecordState['waits'] = {};
      for (const [key, wait] of Object.entries(state.waits))
        if (instanceOfWaitKey(key) !== instanceId) waits[key] = wait;
      const timers: RecordState['timers'] = {};
      for (const [id, timer] of Object.entries(state.timers)) if (timer.instanceId !== instanceId) timers[id] = timer;
      return { ...state, waits, timers };
    }
    default:
      return state;
  }
}

/**
 * An instance moved to another version: its waits and timers name the new activities (timer ids too, rebuilt
 * with the same visit and index), so each still fires once, now for the activity the instance rests at.
 */
function migratedRecord(state: RecordState, instanceId: string, mapping: Record<string, string>): RecordState {
  const rename = (activityId: string): string =>
    Object.prototype.hasOwnProperty.call(mapping, activityId) ? mapping[activityId]! : activityId;
  let changed = false;
  const waits: RecordState['waits'] = {};
  for (const [key, wait] of Object.entries(state.waits)) {
    const to = rename(wait.activityId);
    if (instanceOfWaitKey(key) !== instanceId || to === wait.activityId) {
      waits[key] = wait;
      continue;
    }
    changed = true;
    const renamedKey =
      key === boundaryWatchKey(instanceId, wait.activityId, wait.visit)
        ? boundaryWatchKey(instanceId, to, wait.visit)
        : key;
    waits[renamedKey] = { ...wait, activityId: to };
  }
  const timers: RecordState['timers'] = {};
  for (const [id, timer] of Object.entries(state.timers)) {
    if (timer.instanceId !== instanceId || (timer.kind !== 'wait-timeout' && timer.kind !== 'boundary')) {
      timers[id] = timer;
      continue;
    }
    const to = rename(timer.activityId);
    if (to === timer.activityId) {
      timers[id] = timer;
      continue;
    }
    changed = true;
    const timerId =
      timer.kind === 'wait-timeout'
        ? waitTimeoutTimerId(instanceId, to, timer.visit)
        : boundaryTimerId(instanceId, to, timer.visit, timer.index);
    timers[timerId] = { ...timer, timerId, activityId: to };
  }
  return changed ? { ...state, waits, timers } : state;
}

/** The record state without an activity entry's boundary timers and conditions. */
function withoutBoundaries(state: RecordState, instanceId: string, activityId: string, visit: number): RecordState {
  const watch = boundaryWatchKey(instanceId, activityId, visit);
  const prefix = `boundary:${instanceId}:${activityId}:${visit}:`;
  const stale = Object.keys(state.timers).filter((id) => id.startsWith(prefix));
  if (stale.length === 0 && !(watch in state.waits)) return state;
  const timers = { ...state.timers };
  for (const id of stale) delete timers[id];
  const waits = { ...state.waits };
  delete waits[watch];
  return { ...state, timers, waits };
}

function withoutTimer(state: RecordState, timerId: string): RecordState {
  if (!(timerId in state.timers)) return state;
  const timers = { ...state.timers };
  delete timers[timerId];
  return { ...state, timers };
}

/** Instance events that change a record's waits or timers (when the instance has any). */
const INSTANCE_TYPES_OF_INTEREST = new Set([
  'WaitStarted',
  'WaitSatisfied',
  'WaitTimedOut',
  'InstanceSuspended',
  'InstanceResumed',
  'InstanceMigrated',
  'InstanceCompleted',
  'InstanceTerminated',
  'JobRetryDue',
  'BoundaryEventsArmed',
  'BoundaryEventsDisarmed',
  'BoundaryTriggered',
  'RecordDeleted',
]);

/**
 * Whether an event can change the reactions' state or lead to a reaction at all; the runner skips
 * the others without loading anything (most instance events: tasks, decisions, variables).
 */
export function concernsReactions(event: LifelineEvent): boolean {
  switch (event.type) {
    case 'EntityEventRecorded':
    case 'DelayedStartScheduled':
    case 'DelayedStartSkipped':
    case 'ScheduleTicked':
    case 'DefinitionPublished':
    case 'DefinitionActivated':
    case 'DefinitionDeactivated':
    case 'ExecutionOrderChanged':
      return true;
    case 'InstanceStarted':
      // Only a delayed start has a timer to remove, and only a declared onRecordDeleted watches the record.
      return (
        (event.data.cause.kind === 'trigger' && event.data.cause.delayed) ||
        event.data.onRecordDeleted !== undefined ||
        event.data.watchesRecord === true
      );
    case 'JobFailed':
      // Only a backoff has a timer.
      return event.data.retryAt !== undefined;
    case 'SubprocessStarted':
    case 'SubprocessCancelled':
      return true;
    case 'IncidentRaised':
    case 'IncidentResolved':
      // Only a child's: its parent mirrors it.
      return event.data.parent !== undefined;
    default:
      return INSTANCE_TYPES_OF_INTEREST.has(event.type);
  }
}

/**
 * Whether deciding on and folding this event reads the record's data as it was before it. An entity
 * event replaces the data (and the rest of the record is its waits and timers), so a runner that
 * reads the data from the log need not read it for one.
 */
export function readsRecordData(event: LifelineEvent): boolean {
  return event.type !== 'EntityEventRecorded';
}

/** The record an event concerns, when its stream or payload names it. Instance events need the runner's index. */
export function recordKeyOf(logged: LoggedEvent): string | undefined {
  return recordKeyFor(logged.streamId, logged.event);
}

/** `recordKeyOf` for an event about to be appended to `streamId`. */
export function recordKeyFor(streamId: string, event: { type: string; data: unknown }): string | undefined {
  if (streamId.startsWith('entity-')) return streamId;
  const e = event as LifelineEvent;
  if (
    e.type === 'InstanceStarted' ||
    e.type === 'WaitStarted' ||
    e.type === 'JobFailed' ||
    e.type === 'BoundaryEventsArmed' ||
    e.type === 'SubprocessStarted' ||
    e.type === 'SubprocessCancelled' ||
    e.type === 'InstanceMigrated'
  ) {
    return `entity-${e.data.entity.type}-${e.data.entity.id}`;
  }
  // A child's events its parent reacts to name the child's record.
  const data = e.data as { parent?: unknown; entity?: { type: string; id: string } };
  if (data.parent !== undefined && data.entity !== undefined) return `entity-${data.entity.type}-${data.entity.id}`;
  return undefined;
}

/**
 * The partition key of a record key (`entity-Invoice-INV-7` → `Invoice:INV-7`): the Kafka key of the record's
 * entity events, so the record's work belongs to the partition its entity events are consumed from. Entity
 * types have no `-` (ENTITY_TYPE), so the first one after the prefix ends the type.
 */
export function partitionKeyOfRecord(recordKey: string): string {
  const rest = recordKey.slice('entity-'.length);
  const dash = rest.indexOf('-');
  return `${rest.slice(0, dash)}:${rest.slice(dash + 1)}`;
}

/**
 * Folds a definition stream's event, and a ScheduleTicked, into the definitions (with their schedules);
 * other events leave them as they are.
 */
export function evolveDefinitionsWith(state: DefinitionsState, logged: LoggedEvent): DefinitionsState {
  const { event } = logged;
  switch (event.type) {
    case 'DefinitionPublished':
    case 'DefinitionActivated': {
      const next = evolveDefinitions(state, event);
      const entry = next.byKey[event.data.key];
      if (!entry || next === state) return next;
      // A new version plans from its own cron; an activation resumes at the next tick after it (no burst).
      const before = state.byKey[event.data.key]?.schedule;
      const schedule = planSchedule(entry, logged.at, before?.lastTick, logged);
      return schedule ? withEntry(next, { ...entry, schedule }) : next;
    }
    case 'DefinitionDeactivated':
    case 'ExecutionOrderChanged':
      return evolveDefinitions(state, event);
    case 'ScheduleTicked': {
      const entry = state.byKey[event.data.definitionKey];
      const current = entry?.schedule;
      // Folded once when fired and again when read back: a tick at or before the last one changes nothing.
      if (!entry || !current || (current.lastTick !== undefined && current.lastTick >= event.data.tick)) return state;
      const from = current.after > event.data.tick ? current.after : event.data.tick;
      const schedule = planSchedule(entry, from, event.data.tick, logged);
      // The trigger index does not depend on the schedule: a tick keeps it.
      return schedule ? { byKey: { ...state.byKey, [entry.key]: { ...entry, schedule } }, index: state.index } : state;
    }
    default:
      return state;
  }
}

function withEntry(state: DefinitionsState, entry: DefinitionEntry): DefinitionsState {
  return definitionsStateOf(Object.values({ ...state.byKey, [entry.key]: entry }));
}

/** The schedule of `entry` planned from `from` (ticks strictly after it and after the last tick fired). */
function planSchedule(
  entry: DefinitionEntry,
  from: string,
  lastTick: string | undefined,
  logged: Pick<LoggedEvent, 'id' | 'correlationId'>,
): ScheduleState | undefined {
  const found = scheduleTriggerOf(entry);
  if (!found) return undefined;
  const after = lastTick !== undefined && lastTick > from ? lastTick : from;
  const nextTick = nextTickAfter(found.trigger, after);
  return {
    triggerIndex: found.index,
    after,
    ...(lastTick !== undefined ? { lastTick } : {}),
    ...(nextTick !== undefined ? { nextTick } : {}),
    causationId: logged.id,
    correlationId: logged.correlationId,
  };
}

function scheduleTriggerOf(entry: DefinitionEntry): { trigger: ScheduleTrigger; index: number } | undefined {
  const index = entry.definition.triggers.findIndex(isScheduleTrigger);
  const trigger = entry.definition.triggers[index];
  return trigger && isScheduleTrigger(trigger) ? { trigger, index } : undefined;
}

/** The record a scheduled start is about: one per definition and tick, so each tick has its own timeline. */
export const scheduledRecordId = (definitionKey: string, tick: string): string => `schedule:${definitionKey}:${tick}`;

/**
 * The ticks due at `now`, one reaction per enabled definition whose next tick has come. After downtime
 * only the latest tick due fires; the ones before it are skipped (named by `skippedFrom`), so a
 * schedule never fires a burst. Pure: the same definitions and `now` always give the same reactions.
 */
export function decideScheduleTicks(definitions: DefinitionsState, now: string, context: ReactionContext): Reaction[] {
  const reactions: Reaction[] = [];
  const keys = Object.keys(definitions.byKey).sort();
  for (const key of keys) {
    const entry = definitions.byKey[key]!;
    const schedule = entry.schedule;
    if (!entry.enabled || !schedule || schedule.nextTick === undefined || schedule.nextTick > now) continue;
    const found = scheduleTriggerOf(entry);
    if (!found) continue;
    const latest = latestTickAtOrBefore(found.trigger, now);
    const tick = latest !== undefined && latest > schedule.nextTick ? latest : schedule.nextTick;
    const nextTick = nextTickAfter(found.trigger, tick);
    const recordId = scheduledRecordId(key, tick);
    reactions.push({
      type: 'RecordScheduleTick',
      streamId: `entity-${entry.definition.relatedEntity}-${recordId}`,
      data: {
        definitionKey: key,
        definitionVersion: entry.version,
        triggerIndex: found.index,
        tick,
        instanceId: context.idFor(startedInstanceName(key, recordId), tick),
        ...(tick !== schedule.nextTick ? { skippedFrom: schedule.nextTick } : {}),
        ...(nextTick !== undefined ? { nextTick } : {}),
      },
      origin: {
        commandId: `schedule:${key}:${tick}`,
        causationId: schedule.causationId,
        correlationId: schedule.correlationId,
        idTime: tick,
      },
    });
  }
  return reactions;
}

/** A recorded tick starts its instance, on the tick's own record (which has no data). */
function startForTick(logged: LoggedEvent, event: ScheduleTicked): Reaction[] {
  const entity = entityOfRecordStream(logged.streamId);
  if (!entity) return [];
  const d = event.data;
  return [
    {
      type: 'StartInstance',
      command: {
        type: 'StartInstance',
        instanceId: d.instanceId,
        definitionKey: d.definitionKey,
        definitionVersion: d.definitionVersion,
        entity,
        variables: {},
        cause: {
          kind: 'schedule',
          tick: d.tick,
          triggerIndex: d.triggerIndex,
          ...(d.skippedFrom !== undefined ? { skippedFrom: d.skippedFrom } : {}),
        },
      },
      entityData: {},
      origin: { ...origin(`start:${d.definitionKey}:schedule:${d.tick}`, logged), idTime: d.tick },
    },
  ];
}

/** `entity-<Type>-<id>`: entity types have no dash, so the first dash after the prefix splits. */
function entityOfRecordStream(streamId: string): { type: string; id: string } | undefined {
  if (!streamId.startsWith('entity-')) return undefined;
  const rest = streamId.slice('entity-'.length);
  const dash = rest.indexOf('-');
  return dash < 1 ? undefined : { type: rest.slice(0, dash), id: rest.slice(dash + 1) };
}

export { activeOf };
