import type { ProcessDefinition } from '../definition/definition';
import type { EntityEventKind } from '../definition/definition';
import type { DefinitionEvent, EntityRef } from '../events';
import { buildTriggerIndex, type TriggerIndex } from '../triggers/trigger-index';
import type { ActiveDefinition } from '../triggers/match-triggers';

/**
 * What the reactions decider remembers, in two parts: the published definitions (one small state
 * for the whole log) and one state per record (its latest data, the waits on it and the timers of
 * its instances). A record's state only changes through events of that record or of its
 * instances, so records can be handled independently of each other (and, later, owned by
 * different nodes).
 */

// ---- definitions ----

export interface DefinitionEntry {
  key: string;
  version: number;
  definition: ProcessDefinition;
  enabled: boolean;
  executionOrder: number;
  /** The plan of the definition's schedule trigger, when it has one. */
  schedule?: ScheduleState;
}

/**
 * Where a definition's schedule stands, folded from the log: publishing or activating plans from
 * that moment (no tick before it fires), each ScheduleTicked moves it past the tick it fired.
 */
export interface ScheduleState {
  triggerIndex: number;
  /** Only ticks after this instant fire: the publish or activation time, or the last tick fired. */
  after: string;
  /** The last tick fired, if any. */
  lastTick?: string;
  /** The first tick after `after`; absent when the expression has none left. */
  nextTick?: string;
  /** The event that planned it (publish, activation, tick): the cause of the next tick. */
  causationId: string;
  correlationId: string;
}

export interface DefinitionsState {
  /** key → the latest version, with its grid settings. */
  readonly byKey: Readonly<Record<string, DefinitionEntry>>;
  /** Derived from `byKey` when it changes, so matching an event never walks every definition. */
  readonly index: TriggerIndex;
}

export const initialDefinitionsState = (): DefinitionsState => ({ byKey: {}, index: buildTriggerIndex([]) });

/** The definitions state of these entries (a runner reloading what it persisted). */
export const definitionsStateOf = (entries: readonly DefinitionEntry[]): DefinitionsState =>
  withEntries(Object.fromEntries(entries.map((entry) => [entry.key, entry])));

const withEntries = (byKey: Record<string, DefinitionEntry>): DefinitionsState => ({
  byKey,
  index: buildTriggerIndex(Object.values(byKey).map(activeOf)),
});

export const activeOf = (entry: DefinitionEntry): ActiveDefinition => ({
  definition: entry.definition,
  version: entry.version,
  enabled: entry.enabled,
  executionOrder: entry.executionOrder,
});

/** Folds one event of a `definition-<key>` stream into the definitions state. */
export function evolveDefinitions(state: DefinitionsState, event: DefinitionEvent): DefinitionsState {
  switch (event.type) {
    case 'DefinitionPublished': {
      const d = event.data.definition;
      return withEntries({
        ...state.byKey,
        [event.data.key]: {
          key: event.data.key,
          version: event.data.version,
          definition: d,
          enabled: d.enabled,
          executionOrder: d.executionOrder,
        },
      });
    }
    case 'DefinitionActivated':
    case 'DefinitionDeactivated': {
      const entry = state.byKey[event.data.key];
      const enabled = event.type === 'DefinitionActivated';
      if (!entry || entry.enabled === enabled) return state;
      return withEntries({ ...state.byKey, [entry.key]: { ...entry, enabled } });
    }
    case 'ExecutionOrderChanged': {
      const entry = state.byKey[event.data.key];
      if (!entry || entry.executionOrder === event.data.executionOrder) return state;
      return withEntries({ ...state.byKey, [entry.key]: { ...entry, executionOrder: event.data.executionOrder } });
    }
    default: {
      const unknown: never = event;
      throw new Error(`Unknown definition event ${JSON.stringify(unknown)}`);
    }
  }
}

// ---- records ----

/** A wait of one instance on its record: checked when the record changes. */
export interface RecordWait {
  activityId: string;
  visit: number;
  until?: string;
}

/**
 * The key of a wait in `RecordState.waits`: the instance id for its main line (as every state persisted
 * before branches existed has it), `<instanceId>#<token>` for a branch's (several waits of one instance).
 */
export const recordWaitKey = (instanceId: string, token: string | undefined): string =>
  token === undefined ? instanceId : `${instanceId}#${token}`;

/** The instance a `waits` key belongs to. */
export const instanceOfWaitKey = (key: string): string => {
  const hash = key.indexOf('#');
  return hash < 0 ? key : key.slice(0, hash);
};

/** The instances with an open wait on the record, each once, in order (with `deleting`, those watching for a deletion too). */
export const waitingInstances = (state: RecordState | undefined, deleting = false): string[] =>
  [
    ...new Set(
      Object.keys(state?.waits ?? {})
        .filter((key) => deleting || key !== deletionWatchKey(instanceOfWaitKey(key)))
        .map(instanceOfWaitKey),
    ),
  ].sort();

export type RecordTimer = DelayedStartTimer | WaitTimeoutTimer | JobRetryTimer | BoundaryTimer;

/** A boundary event's timer on an open task or wait (`index` into its activity's `boundary`). */
export interface BoundaryTimer {
  kind: 'boundary';
  timerId: string;
  dueAt: string;
  instanceId: string;
  activityId: string;
  visit: number;
  index: number;
  /** Suspended instances keep their timers but do not fire them. */
  paused: boolean;
  causationId: string;
  correlationId: string;
}

/** Start a definition for the record once `dueAt` has come (a trigger with a delay). */
export interface DelayedStartTimer {
  kind: 'delayed-start';
  timerId: string;
  dueAt: string;
  instanceId: string;
  definitionKey: string;
  definitionVersion: number;
  triggerIndex: number;
  /** The envelope whose trigger scheduled it. */
  entityEventId: string;
  /** The store event that scheduled it (`DelayedStartScheduled`). */
  causationId: string;
  correlationId: string;
}

/** Take a wait's timeout path once `dueAt` has come, unless the wait ended first. */
export interface WaitTimeoutTimer {
  kind: 'wait-timeout';
  timerId: string;
  dueAt: string;
  instanceId: string;
  activityId: string;
  visit: number;
  /** Suspended instances keep their timers but do not fire them. */
  paused: boolean;
  causationId: string;
  correlationId: string;
}

/** Offer a failed job again once its backoff has passed (docs/decisions/0007-jobs.md). */
export interface JobRetryTimer {
  kind: 'job-retry';
  timerId: string;
  dueAt: string;
  instanceId: string;
  jobId: string;
  causationId: string;
  correlationId: string;
}

export interface RecordState {
  entity: EntityRef;
  /** The record as last recorded (`{}` before any envelope). */
  data: Record<string, unknown>;
  kind?: EntityEventKind;
  /** The id of the envelope `data` comes from. */
  lastEntityEventId?: string;
  /** `recordWaitKey(instance, token)` → an open wait of an instance on this record. */
  waits: Record<string, RecordWait>;
  /** timer id → a pending timer of this record or one of its instances. */
  timers: Record<string, RecordTimer>;
}

export const initialRecordState = (entity: EntityRef): RecordState => ({ entity, data: {}, waits: {}, timers: {} });

export const delayedStartTimerId = (instanceId: string): string => `start:${instanceId}`;
export const waitTimeoutTimerId = (instanceId: string, activityId: string, visit: number): string =>
  `wait:${instanceId}:${activityId}:${visit}`;

export const jobRetryTimerId = (jobId: string): string => `job:${jobId}`;
export const boundaryTimerId = (instanceId: string, activityId: string, visit: number, index: number): string =>
  `boundary:${instanceId}:${activityId}:${visit}:${index}`;
/** The `waits` key of an instance whose definition declares `onRecordDeleted`: a deletion reaches it. */
export const deletionWatchKey = (instanceId: string): string => `${instanceId}#deleted`;
/** The `waits` key of an instance whose definition has conditional starts: every entity event reaches it. */
export const recordWatchKey = (instanceId: string): string => `${instanceId}#record`;
/** The `waits` key of an activity's boundary conditions: the record's updates reach its instance. */
export const boundaryWatchKey = (instanceId: string, activityId: string, visit: number): string =>
  `${instanceId}#boundary:${activityId}.${visit}`;

/** The instances this record state holds something for (a wait or a timer). */
export function instancesOf(state: RecordState | undefined): Set<string> {
  const out = new Set<string>();
  if (!state) return out;
  for (const key of Object.keys(state.waits)) out.add(instanceOfWaitKey(key));
  for (const timer of Object.values(state.timers)) out.add(timer.instanceId);
  return out;
}

/** Timers whose time has come and that are not paused, earliest first. */
export function dueTimers(state: RecordState, now: string): RecordTimer[] {
  const at = Date.parse(now);
  return Object.values(state.timers)
    .filter((t) => !((t.kind === 'wait-timeout' || t.kind === 'boundary') && t.paused) && Date.parse(t.dueAt) <= at)
    .sort((a, b) => Date.parse(a.dueAt) - Date.parse(b.dueAt) || (a.timerId < b.timerId ? -1 : 1));
}
