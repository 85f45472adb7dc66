import type { FormField, Question } from '../definition/definition';
import type { EntityRef, InstanceCause, InstanceEvent, InstanceMigrated } from '../events';

/** The main line of an instance: every event without a `token` moves it. */
export const MAIN_TOKEN = 'main';

export interface TaskState {
  taskId: string;
  activityId: string;
  /** The line of the flow whose task it is (the main line for tasks created before branches existed). */
  token: string;
  /** The entry of its activity that created it. */
  visit: number;
  status: 'open' | 'completed' | 'cancelled';
  user?: string;
  role?: string;
  /** True once a user took it (claim, or reassignment to a user). */
  claimed: boolean;
  startAt: string;
  dueAt?: string;
  results?: string[];
  form?: FormField[];
  question?: Question;
}

/** A service activity's job, as its instance decides about it (docs/decisions/0007-jobs.md). */
export interface JobState {
  jobId: string;
  activityId: string;
  visit: number;
  /** The line of the flow whose job it is. */
  token: string;
  jobType: string;
  /** `open` until completed, failed for good (an incident), ended by a business error, or cancelled with its instance. */
  status: 'open' | 'completed' | 'failed' | 'errored' | 'cancelled';
  /** Failures it may still have. */
  retries: number;
  /** The worker that holds (or last held) the lock; it may act on the job until another worker locks it. */
  workerId?: string;
  lockExpiresAt?: string;
  /** After a failure with a backoff: not offered until its retry is due. */
  retryAt?: string;
  lastError?: string;
}

/** What a finished activity contributes to the FEEL context under its id. */
export interface ActivityOutcome {
  result?: string;
  fields?: Record<string, unknown>;
  answers?: string[];
  completedBy?: string;
  satisfied?: boolean;
  timedOut?: boolean;
  branch?: number;
  /** A service activity ended by a worker's business error. */
  errorCode?: string;
  /** The boundary event (its index) that interrupted the activity. */
  boundary?: number;
}

export interface OpenWait {
  activityId: string;
  visit: number;
  until?: string;
  timeoutAt?: string;
  token: string;
}

/** One line of the flow where it rests or passes: the main line, or a branch of a fork. */
export interface TokenState {
  token: string;
  activityId: string;
  activityType: string;
  visit: number;
  /** The fork entry that made it (absent: the main line, or a line restored by its join). */
  forkId?: string;
  /** It rests at a fork (`activityId`) until the branches of this fork entry join. */
  forked?: string;
  /** Its open wait, when it rests at one. */
  wait?: OpenWait;
}

/** One entry of a fork: the branches it started and the line that goes on once they join. */
export interface ForkEntry {
  forkId: string;
  activityId: string;
  /** The line that reached the fork; it rests there and goes on from the join. */
  parent: string;
  /** Every branch it started; those no longer in `tokens` ended (at an end) before the join. */
  tokens: string[];
}

export interface OpenIncident {
  incidentId: string;
  activityId: string;
  code: string;
  message: string;
  token: string;
  /** It mirrors this incident of a child instance. */
  child?: { instanceId: string; incidentId: string };
}

export interface InstanceData {
  instanceId: string;
  definitionKey: string;
  definitionVersion: number;
  entity: EntityRef;
  cause: InstanceCause;
  variables: Record<string, unknown>;
  /** The activity entered last, by any line (a task, a wait, an incident, or the end). */
  current?: { activityId: string; activityType: string; visit: number };
  visits: Record<string, number>;
  tasks: Record<string, TaskState>;
  /** token → where that line is; several while branches run, none once the instance ended. */
  tokens: Record<string, TokenState>;
  /** fork id → a fork entry whose branches have not joined yet. */
  forks: Record<string, ForkEntry>;
  outcomes: Record<string, ActivityOutcome>;
  incidents: Record<string, OpenIncident>;
  incidentsRaised: number;
  /** The jobs of service activities, open or not. */
  jobs: Record<string, JobState>;
  /** `<activityId>.<visit>.<index>` → the due time a repeating boundary timer last fired for (each fires once). */
  boundaryFired?: Record<string, string>;
  /** Where the flow goes on when resumed: the record was deleted while the instance was suspended. */
  resumeAt?: string;
  /** Lines started by conditional starts so far (their tokens are `on.<n>`). */
  conditionalStarted?: number;
  /** child instance id → a sub-process this instance started. */
  children?: Record<string, ChildState>;
}

/** A child instance started by a `subprocess` activity, as its parent knows it. */
export interface ChildState {
  childInstanceId: string;
  activityId: string;
  visit: number;
  token: string;
  /** The child's record. */
  entity: EntityRef;
  status: 'running' | 'completed' | 'failed' | 'cancelled';
}

/**
 * A child instance's events its parent reacts to carry the parent and the child's record (`OfChild`): the
 * reactions route them without a lookup. A completion also carries the child's variables for `outputs`.
 */
export function asChildEvent(state: InstanceState, event: InstanceEvent): InstanceEvent {
  if (state.status === 'none' || state.cause.kind !== 'parent') return event;
  const { instanceId, activityId, visit } = state.cause;
  const ofChild = { parent: { instanceId, activityId, visit }, entity: state.entity };
  switch (event.type) {
    case 'InstanceCompleted':
      return { type: event.type, data: { ...event.data, variables: state.variables, ...ofChild } };
    case 'InstanceTerminated':
      return { type: event.type, data: { ...event.data, ...ofChild } };
    case 'IncidentRaised':
      return { type: event.type, data: { ...event.data, ...ofChild } };
    case 'IncidentResolved':
      return { type: event.type, data: { ...event.data, ...ofChild } };
    default:
      return event;
  }
}

export type InstanceState =
  | { status: 'none' }
  | ({ status: 'running' } & InstanceData)
  | ({ status: 'suspended' } & InstanceData)
  | ({ status: 'completed' } & InstanceData)
  | ({ status: 'terminated' } & InstanceData);

export type LiveInstance = Exclude<InstanceState, { status: 'none' }>;

export const initialState = (): InstanceState => ({ status: 'none' });

const assertNever = (value: never): never => {
  throw new Error(`Unhandled event: ${JSON.stringify(value)}`);
};

/**
 * A map keyed by ids (tasks, jobs), without a prototype: V8 keeps such an object as a hash table,
 * where an object literal with a new id as a key makes a hidden class for every id (and keeps it).
 */
const idMap = <V>(): Record<string, V> => Object.create(null) as Record<string, V>;

/** A copy of an id-keyed map with each entry passed through `change`, and `key` set to `value` when given. */
function copyIdMap<V>(entries: Readonly<Record<string, V>>, change?: (value: V) => V): Record<string, V> {
  const copy = idMap<V>();
  for (const key of Object.keys(entries)) copy[key] = change ? change(entries[key]!) : entries[key]!;
  return copy;
}

function withEntry<V>(entries: Readonly<Record<string, V>>, key: string, value: V): Record<string, V> {
  const copy = copyIdMap(entries);
  copy[key] = value;
  return copy;
}

/**
 * A copy of a live state, every field written out: V8 makes `{ ...state, field }` for a field the
 * state lacks (`current`, `wait`) in a slow path costing microseconds, an explicit literal in nanoseconds.
 */
function copyOf(state: LiveInstance): LiveInstance {
  const copy: { [K in keyof Required<LiveInstance>]: LiveInstance[K] } = {
    status: state.status,
    instanceId: state.instanceId,
    definitionKey: state.definitionKey,
    definitionVersion: state.definitionVersion,
    entity: state.entity,
    cause: state.cause,
    variables: state.variables,
    current: state.current,
    visits: state.visits,
    tasks: state.tasks,
    tokens: state.tokens,
    forks: state.forks,
    outcomes: state.outcomes,
    incidents: state.incidents,
    incidentsRaised: state.incidentsRaised,
    jobs: state.jobs,
    boundaryFired: state.boundaryFired,
    resumeAt: state.resumeAt,
    conditionalStarted: state.conditionalStarted,
    children: state.children,
  };
  return copy;
}

/** A copy of a plain map with `key` set to `value` (a computed key after a spread takes the slow path too). */
function withKey<V>(entries: Readonly<Record<string, V>>, key: string, value: V): Record<string, V> {
  const copy = { ...entries };
  copy[key] = value;
  return copy;
}

/** The state with `outcomes[activityId]` set. */
function withOutcome(state: LiveInstance, activityId: string, outcome: ActivityOutcome): LiveInstance {
  const next = copyOf(state);
  next.outcomes = withKey(state.outcomes, activityId, outcome);
  return next;
}

const updateTask = (state: LiveInstance, taskId: string, change: Partial<TaskState>): LiveInstance => {
  const task = state.tasks[taskId];
  if (!task) return state;
  const next = copyOf(state);
  next.tasks = withEntry(state.tasks, taskId, { ...task, ...change });
  return next;
};

const updateJob = (state: LiveInstance, jobId: string, change: Partial<JobState>): LiveInstance => {
  const job = state.jobs[jobId];
  if (!job) return state;
  const next = copyOf(state);
  next.jobs = withEntry(state.jobs, jobId, { ...job, ...change });
  return next;
};

const closeOpenJobs = (state: LiveInstance): Record<string, JobState> =>
  copyIdMap(state.jobs, (job) => (job.status === 'open' ? { ...job, status: 'cancelled' as const } : job));

const closeOpenTasks = (state: LiveInstance): Record<string, TaskState> =>
  copyIdMap(state.tasks, (task) => (task.status === 'open' ? { ...task, status: 'cancelled' as const } : task));

/** Every open wait, in token order (deterministic). */
export function openWaits(state: LiveInstance): OpenWait[] {
  const waits: OpenWait[] = [];
  for (const token of Object.keys(state.tokens).sort()) {
    const wait = state.tokens[token]!.wait;
    if (wait) waits.push(wait);
  }
  return waits;
}

/** The open wait at this entry of an activity (entries are unique: visits count per instance). */
export function waitAt(state: LiveInstance, activityId: string, visit: number): OpenWait | undefined {
  for (const token of Object.keys(state.tokens)) {
    const wait = state.tokens[token]!.wait;
    if (wait && wait.activityId === activityId && wait.visit === visit) return wait;
  }
  return undefined;
}

/** The state without the open wait at this entry (its line stays where it is until it moves on). */
function withoutWait(state: LiveInstance, activityId: string, visit: number): LiveInstance {
  const wait = waitAt(state, activityId, visit);
  if (!wait) return state;
  const at = state.tokens[wait.token]!;
  const next = copyOf(state);
  next.tokens = withEntry<TokenState>(state.tokens, wait.token, { ...at, wait: undefined });
  return next;
}

/** The instance ended (`completed`, `terminated`): no line left, its open tasks and jobs cancelled. */
function ended(state: LiveInstance, status: 'completed' | 'terminated'): LiveInstance {
  const next = copyOf(state);
  next.status = status;
  next.tokens = idMap();
  next.forks = idMap();
  next.tasks = closeOpenTasks(state);
  next.jobs = closeOpenJobs(state);
  return next;
}

/** Folds one event into the state. Accepts every event ever written; never throws on known events. */
export function evolve(state: InstanceState, event: InstanceEvent): InstanceState {
  if (event.type === 'InstanceStarted') {
    if (state.status !== 'none') return state;
    const d = event.data;
    return {
      status: 'running',
      instanceId: d.instanceId,
      definitionKey: d.definitionKey,
      definitionVersion: d.definitionVersion,
      entity: d.entity,
      cause: d.cause,
      variables: { ...d.variables },
      visits: {},
      tasks: idMap(),
      tokens: idMap(),
      forks: idMap(),
      outcomes: {},
      incidents: {},
      incidentsRaised: 0,
      jobs: idMap(),
    };
  }
  if (state.status === 'none') return state;
  switch (event.type) {
    case 'ActivityEntered': {
      const { activityId, activityType, visit } = event.data;
      const token = event.data.token ?? MAIN_TOKEN;
      const next = copyOf(state);
      next.current = { activityId, activityType, visit };
      next.visits = withKey(state.visits, activityId, visit);
      if (activityType === 'end') {
        // The line ends here (the instance completes when it was the last one: InstanceCompleted follows).
        if (token in state.tokens) {
          next.tokens = copyIdMap(state.tokens);
          delete next.tokens[token];
        }
        return next;
      }
      const forkId = state.tokens[token]?.forkId;
      next.tokens = withEntry(
        state.tokens,
        token,
        forkId !== undefined
          ? { token, activityId, activityType, visit, forkId }
          : { token, activityId, activityType, visit },
      );
      return next;
    }
    case 'BranchesForked': {
      const d = event.data;
      const parentId = d.token ?? MAIN_TOKEN;
      const parent = state.tokens[parentId];
      const next = copyOf(state);
      next.tokens = copyIdMap(state.tokens);
      next.tokens[parentId] = {
        token: parentId,
        activityId: d.activityId,
        activityType: parent?.activityType ?? 'parallel',
        visit: d.visit,
        ...(parent?.forkId !== undefined ? { forkId: parent.forkId } : {}),
        forked: d.forkId,
      };
      for (const branch of d.branches) {
        next.tokens[branch.token] = {
          token: branch.token,
          activityId: d.activityId,
          activityType: parent?.activityType ?? 'parallel',
          visit: d.visit,
          forkId: d.forkId,
        };
      }
      next.forks = withEntry(state.forks, d.forkId, {
        forkId: d.forkId,
        activityId: d.activityId,
        parent: parentId,
        tokens: d.branches.map((b) => b.token),
      });
      return next;
    }
    case 'BranchesJoined':
    case 'BranchesEnded': {
      const d = event.data;
      const forkEntry = state.forks[d.forkId];
      const parentId = d.token ?? MAIN_TOKEN;
      const parent = state.tokens[parentId];
      const next = copyOf(state);
      next.tokens = copyIdMap(state.tokens);
      for (const token of forkEntry?.tokens ?? []) delete next.tokens[token];
      if (event.type === 'BranchesEnded') delete next.tokens[parentId];
      else {
        const { activityId, visit } = event.data;
        next.tokens[parentId] =
          parent?.forkId !== undefined
            ? { token: parentId, activityId, activityType: 'join', visit, forkId: parent.forkId }
            : { token: parentId, activityId, activityType: 'join', visit };
      }
      next.forks = copyIdMap(state.forks);
      delete next.forks[d.forkId];
      return next;
    }
    case 'TaskCreated': {
      const d = event.data;
      const task: TaskState = {
        taskId: d.taskId,
        activityId: d.activityId,
        token: d.token ?? MAIN_TOKEN,
        visit: state.tokens[d.token ?? MAIN_TOKEN]?.visit ?? state.visits[d.activityId] ?? 1,
        status: 'open',
        user: d.assignee.user,
        role: d.assignee.role,
        claimed: false,
        startAt: d.startAt,
        dueAt: d.dueAt,
        results: d.results,
        form: d.form,
        question: d.question,
      };
      const next = copyOf(state);
      next.tasks = withEntry(state.tasks, d.taskId, task);
      return next;
    }
    case 'TaskClaimed':
      return updateTask(state, event.data.taskId, { user: event.data.user, claimed: true });
    case 'TaskReleased':
      return updateTask(state, event.data.taskId, {
        user: undefined,
        claimed: false,
        ...(event.data.role ? { role: event.data.role } : {}),
      });
    case 'TaskReassigned': {
      const to = event.data.to;
      return to.user
        ? updateTask(state, event.data.taskId, { user: to.user, claimed: true })
        : updateTask(state, event.data.taskId, { user: undefined, role: to.role, claimed: false });
    }
    case 'TaskPostponed': {
      const task = state.tasks[event.data.taskId];
      return updateTask(state, event.data.taskId, {
        startAt: event.data.until,
        dueAt: event.data.dueAt ?? task?.dueAt,
      });
    }
    case 'TaskCompleted': {
      const d = event.data;
      const next = updateTask(state, d.taskId, { status: 'completed', user: d.user });
      return withOutcome(next, d.activityId, {
        result: d.result,
        fields: d.fields,
        answers: d.answers,
        completedBy: d.user,
      });
    }
    case 'WaitStarted': {
      const { activityId, visit, until, timeoutAt } = event.data;
      const token = event.data.token ?? MAIN_TOKEN;
      const at = state.tokens[token] ?? { token, activityId, activityType: 'wait', visit };
      const next = copyOf(state);
      next.tokens = withEntry<TokenState>(state.tokens, token, {
        ...at,
        wait: { activityId, visit, until, timeoutAt, token },
      });
      return next;
    }
    case 'WaitSatisfied':
    case 'WaitTimedOut': {
      const satisfied = event.type === 'WaitSatisfied';
      return withOutcome(withoutWait(state, event.data.activityId, event.data.visit), event.data.activityId, {
        satisfied,
        timedOut: !satisfied,
      });
    }
    case 'BoundaryEventsArmed':
    case 'BoundaryEventsDisarmed':
      return state;
    case 'SubprocessStarted': {
      const d = event.data;
      const next = copyOf(state);
      next.children = withKey<ChildState>(state.children ?? {}, d.childInstanceId, {
        childInstanceId: d.childInstanceId,
        activityId: d.activityId,
        visit: d.visit,
        token: d.token ?? MAIN_TOKEN,
        entity: d.entity,
        status: 'running' as const,
      });
      return next;
    }
    case 'SubprocessCompleted':
    case 'SubprocessFailed':
    case 'SubprocessCancelled': {
      const d = event.data;
      const child = state.children?.[d.childInstanceId];
      if (!child) return state;
      const status =
        event.type === 'SubprocessCompleted' ? 'completed' : event.type === 'SubprocessFailed' ? 'failed' : 'cancelled';
      const next = copyOf(state);
      next.children = withKey<ChildState>(state.children ?? {}, d.childInstanceId, { ...child, status });
      if (event.type === 'SubprocessCompleted') {
        next.variables = { ...state.variables, ...event.data.variables };
        next.outcomes = withKey<ActivityOutcome>(state.outcomes, d.activityId, { completedBy: d.childInstanceId });
      }
      return next;
    }
    case 'ConditionalBranchStarted': {
      const { token, next: activityId } = event.data;
      const next = copyOf(state);
      next.conditionalStarted = (state.conditionalStarted ?? 0) + 1;
      next.tokens = withEntry<TokenState>(state.tokens, token, { token, activityId, activityType: 'start', visit: 0 });
      return next;
    }
    case 'RecordDeleted': {
      if (event.data.policy !== 'next') return state;
      // Every line is left: no position, no wait, open tasks and jobs cancelled; the instance itself goes on.
      const next = copyOf(state);
      next.tokens = idMap();
      next.forks = idMap();
      next.tasks = closeOpenTasks(state);
      next.jobs = closeOpenJobs(state);
      if (state.status === 'suspended') next.resumeAt = event.data.next;
      return next;
    }
    case 'BoundaryTriggered': {
      const d = event.data;
      if (!d.interrupting) {
        if (d.dueAt === undefined) return state;
        const next = copyOf(state);
        next.boundaryFired = withKey(state.boundaryFired ?? {}, `${d.activityId}.${d.visit}.${d.index}`, d.dueAt);
        return next;
      }
      return withOutcome(withoutWait(state, d.activityId, d.visit), d.activityId, { boundary: d.index });
    }
    case 'TaskCancelled':
      return updateTask(state, event.data.taskId, { status: 'cancelled' });
    case 'DecisionTaken':
      return withOutcome(state, event.data.activityId, { branch: event.data.branch });
    case 'VariablesSet': {
      const next = copyOf(state);
      next.variables = { ...state.variables, ...event.data.variables };
      return next;
    }
    case 'MessageEmitted':
      return state;
    case 'IncidentRaised': {
      const { incidentId, activityId, code, message, child } = event.data;
      const token = event.data.token ?? MAIN_TOKEN;
      const next = copyOf(state);
      next.incidents = withKey<OpenIncident>(
        state.incidents,
        incidentId,
        child !== undefined
          ? { incidentId, activityId, code, message, token, child }
          : { incidentId, activityId, code, message, token },
      );
      next.incidentsRaised = state.incidentsRaised + 1;
      return next;
    }
    case 'IncidentResolved': {
      const next = copyOf(state);
      next.incidents = { ...state.incidents };
      delete next.incidents[event.data.incidentId];
      return next;
    }
    case 'InstanceSuspended':
    case 'InstanceResumed': {
      const [from, to] =
        event.type === 'InstanceSuspended' ? (['running', 'suspended'] as const) : (['suspended', 'running'] as const);
      if (state.status !== from) return state;
      const next = copyOf(state);
      next.status = to;
      if (event.type === 'InstanceResumed') next.resumeAt = undefined;
      return next;
    }
    case 'InstanceMigrated':
      return migrated(state, event.data);
    case 'InstanceTerminated':
      return ended(state, 'terminated');
    case 'InstanceCompleted':
      return ended(state, 'completed');
    case 'JobCreated': {
      const d = event.data;
      const job: JobState = {
        jobId: d.jobId,
        activityId: d.activityId,
        visit: d.visit,
        token: d.token ?? MAIN_TOKEN,
        jobType: d.jobType,
        status: 'open',
        retries: d.retries,
      };
      const next = copyOf(state);
      next.jobs = withEntry(state.jobs, d.jobId, job);
      return next;
    }
    case 'JobLocked':
    case 'JobLockExtended':
      return updateJob(state, event.data.jobId, {
        workerId: event.data.workerId,
        lockExpiresAt: event.data.lockExpiresAt,
      });
    case 'JobCompleted': {
      const d = event.data;
      const next = withOutcome(updateJob(state, d.jobId, { status: 'completed', workerId: d.workerId }), d.activityId, {
        completedBy: d.workerId,
      });
      next.variables = { ...next.variables, ...d.variables };
      return next;
    }
    case 'JobFailed': {
      const d = event.data;
      return updateJob(state, d.jobId, {
        status: d.retries > 0 ? 'open' : 'failed',
        retries: d.retries,
        workerId: undefined,
        lockExpiresAt: undefined,
        retryAt: d.retryAt,
        lastError: d.error,
      });
    }
    case 'JobRetryDue':
      return updateJob(state, event.data.jobId, { retryAt: undefined });
    case 'JobErrorThrown': {
      const d = event.data;
      const next = withOutcome(updateJob(state, d.jobId, { status: 'errored', workerId: d.workerId }), d.activityId, {
        errorCode: d.code,
        completedBy: d.workerId,
      });
      next.variables = { ...next.variables, ...d.variables };
      return next;
    }
    default:
      return assertNever(event);
  }
}

/** The state once migrated: the version moves, every resting activity in `mapping` is renamed; ids stay. */
export function migrated(state: InstanceState, data: InstanceMigrated['data']): InstanceState {
  if (state.status === 'none') return state;
  const rename = (activityId: string): string =>
    Object.prototype.hasOwnProperty.call(data.mapping, activityId) ? data.mapping[activityId]! : activityId;
  const renameWait = (wait: OpenWait | undefined): OpenWait | undefined =>
    wait === undefined ? undefined : { ...wait, activityId: rename(wait.activityId) };
  const tokens: LiveInstance['tokens'] = Object.create(null) as LiveInstance['tokens'];
  for (const [token, line] of Object.entries(state.tokens)) {
    const wait = renameWait(line.wait);
    tokens[token] = { ...line, activityId: rename(line.activityId), ...(wait !== undefined ? { wait } : {}) };
  }
  const forks: LiveInstance['forks'] = Object.create(null) as LiveInstance['forks'];
  for (const [forkId, entry] of Object.entries(state.forks)) {
    forks[forkId] = { ...entry, activityId: rename(entry.activityId) };
  }
  const tasks: LiveInstance['tasks'] = Object.create(null) as LiveInstance['tasks'];
  for (const [id, task] of Object.entries(state.tasks)) {
    tasks[id] = task.status === 'open' ? { ...task, activityId: rename(task.activityId) } : task;
  }
  const jobs: LiveInstance['jobs'] = Object.create(null) as LiveInstance['jobs'];
  for (const [id, job] of Object.entries(state.jobs)) {
    jobs[id] = job.status === 'open' ? { ...job, activityId: rename(job.activityId) } : job;
  }
  const incidents: LiveInstance['incidents'] = {};
  for (const [id, incident] of Object.entries(state.incidents)) {
    incidents[id] = { ...incident, activityId: rename(incident.activityId) };
  }
  const children: NonNullable<LiveInstance['children']> = {};
  for (const [id, child] of Object.entries(state.children ?? {})) {
    children[id] = child.status === 'running' ? { ...child, activityId: rename(child.activityId) } : child;
  }
  // The renamed activity's entries count on from the entry moved to it: a later entry gets a new visit (and ids).
  const visits = { ...state.visits };
  for (const [source, target] of Object.entries(data.mapping)) {
    visits[target] = Math.max(state.visits[target] ?? 0, state.visits[source] ?? 0);
  }
  const boundaryFired: Record<string, string> = {};
  for (const [key, dueAt] of Object.entries(state.boundaryFired ?? {})) {
    // `<activityId>.<visit>.<index>`: the activity is all before the last two dots.
    const dot = key.lastIndexOf('.', key.lastIndexOf('.') - 1);
    boundaryFired[dot < 0 ? key : `${rename(key.slice(0, dot))}${key.slice(dot)}`] = dueAt;
  }
  return {
    ...state,
    definitionVersion: data.toVersion,
    current:
      state.current !== undefined ? { ...state.current, activityId: rename(state.current.activityId) } : undefined,
    visits,
    tokens,
    forks,
    tasks,
    jobs,
    incidents,
    ...(state.children !== undefined ? { children } : {}),
    ...(state.boundaryFired !== undefined ? { boundaryFired } : {}),
  };
}

export const evolveAll = (events: readonly InstanceEvent[], from: InstanceState = initialState()): InstanceState =>
  events.reduce(evolve, from);
