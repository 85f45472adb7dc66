import type {
  Activity,
  Boundary,
  HumanActivity,
  Next,
  ProcessDefinition,
  SubprocessActivity,
  WaitActivity,
} from '../definition/definition';
import { addDuration } from '../definition/duration';
import { DomainError } from '../errors';
import type { EntityRef, InstanceEvent } from '../events';
import { evaluateCondition, evaluateFeel } from '../feel/feel';
import type { Decision } from '../decider';
import {
  asChildEvent,
  evolve,
  MAIN_TOKEN,
  waitAt,
  type ForkEntry,
  type InstanceState,
  type LiveInstance,
} from './state';
import { entityIdProblem } from '../entity/validate-envelope';
import { userIdProblem } from './user-id';
import { SYSTEM } from './commands';

/** Who completes a task its record completed: the engine (a reserved id no token can hold). */
const SYSTEM_ID = SYSTEM.id;

/** Steps one command may take through automatic activities and decisions before we call it a loop. */
export const MAX_STEPS_PER_COMMAND = 1000;
/** Lines of the flow one instance may have at once: a fork or a conditional start beyond it is an incident. */
export const MAX_LINES = 1000;

/** Whether `more` new lines fit in the instance; if not, an incident at `activityId` says so. */
export function roomForLines(rec: Recorder, activityId: string, more: number): boolean {
  const lines = Object.keys(rec.live().tokens).length;
  if (lines + more <= MAX_LINES) return true;
  raiseIncident(
    rec,
    activityId,
    'FLOW.TOO_MANY_LINES',
    `${more} more line(s) would make ${lines + more}; an instance may have at most ${MAX_LINES} at once`,
  );
  return false;
}

export interface FlowContext {
  now: string;
  definition: ProcessDefinition;
  /** The version of `definition` (the one recorded on the instance stream). */
  definitionVersion: number;
  /** The related record as last recorded (`{}` when none was ever recorded). */
  entityData: Record<string, unknown>;
  /** The envelope `entityData` comes from, when known: a wait remembers which version of the record it saw. */
  entityEventId?: string;
  /**
   * The id of a child instance a `subprocess` activity starts, from a name unique to it (the engine derives a
   * UUID, so a command repeated after a crash names the same child). Absent: sub-processes cannot start here.
   */
  childInstanceId?: (name: string) => string;
}

/**
 * The FEEL context (README, "Defining a process"): `entity` (the record's data), `record` (its identity: type and
 * id, which the data need not hold), `vars`, and one entry per finished activity.
 */
export function feelContext(state: LiveInstance, entityData: Record<string, unknown>): Record<string, unknown> {
  // `record` first: an activity of a definition published before `record` was reserved keeps its name.
  return { record: recordOf(state.entity), ...state.outcomes, entity: entityData, vars: state.variables };
}

/** What FEEL's `record` holds: the record's identity, from the envelope, never from its data. */
function recordOf(entity: EntityRef): { type: string; id: string } {
  return { type: entity.type, id: entity.id };
}

/** Collects events while keeping the state they lead to, so each step sees the previous ones. */
export class Recorder {
  readonly events: InstanceEvent[] = [];
  /** Branches a fork started, each run once the line moving now rests. */
  readonly pending: { token: string; activityId: string }[] = [];
  /** @param token the line of the flow the events move (the main line unless a branch does). */
  constructor(
    public state: InstanceState,
    public token: string = MAIN_TOKEN,
  ) {}
  /** `{ token }` for an event of a branch; nothing for the main line (the shape of every older event). */
  onToken(): { token?: string } {
    return this.token === MAIN_TOKEN ? {} : { token: this.token };
  }
  record(event: InstanceEvent): void {
    const recorded = asChildEvent(this.state, event);
    this.events.push(recorded);
    this.state = evolve(this.state, recorded);
  }
  live(): LiveInstance {
    if (this.state.status === 'none') throw new Error('Instance not started');
    return this.state;
  }
  /** The events recorded and the state they led to. */
  decision(): Decision<InstanceState, InstanceEvent> {
    return { events: this.events, state: this.state };
  }
}

export function raiseIncident(
  rec: Recorder,
  activityId: string,
  code: string,
  message: string,
  expression?: string,
): void {
  const state = rec.live();
  rec.record({
    type: 'IncidentRaised',
    data: {
      incidentId: `${activityId}-${state.incidentsRaised + 1}`,
      activityId,
      code,
      message,
      ...(expression !== undefined ? { expression } : {}),
      ...rec.onToken(),
    },
  });
}

/** Incident code when a definition's duration gives no valid instant (one published before durations were bounded). */
export const INVALID_DURATION = 'FLOW.INVALID_DURATION';

/**
 * `now` plus the activity's duration, or an incident at the activity (and undefined) when that is no
 * valid instant: a definition stored before durations were bounded must stop its instance, not the engine.
 */
export function instantAfter(rec: Recorder, activityId: string, now: string, duration: string): string | undefined {
  try {
    return addDuration(now, duration);
  } catch (error) {
    if (!(error instanceof DomainError)) throw error;
    raiseIncident(rec, activityId, INVALID_DURATION, `${duration}: ${error.message}`);
    return undefined;
  }
}

/**
 * Enters `activityId` with the line `rec.token` and runs the flow until it rests (at a task, a wait, an
 * incident, a join or an end), then runs each branch a fork started the same way. Automatic activities,
 * decisions and forks run within the same command (one append, one stream). Without `activityId`, it only
 * runs the branches already pending.
 */
export function runFrom(rec: Recorder, activityId: string | undefined, ctx: FlowContext): void {
  if (activityId !== undefined) rec.pending.unshift({ token: rec.token, activityId });
  let steps = 0;
  while (rec.pending.length > 0) {
    const { token, activityId: first } = rec.pending.shift()!;
    rec.token = token;
    let next: string | undefined = first;
    while (next !== undefined) {
      // An end with `terminate` (or the last line ending) completed the instance: nothing else moves.
      if (rec.live().status !== 'running') {
        rec.pending.length = 0;
        return;
      }
      if (++steps > MAX_STEPS_PER_COMMAND) {
        raiseIncident(rec, next, 'FLOW.LOOP', `More than ${MAX_STEPS_PER_COMMAND} steps without a rest`);
        rec.pending.length = 0;
        return;
      }
      next = enter(rec, next, ctx);
    }
  }
}

/**
 * Goes on from a finished activity (`from`, at its entry `visit`) to `next`: one activity, or a fork into
 * several when `next` lists them.
 */
export function continueFrom(rec: Recorder, from: string, visit: number, next: Next, ctx: FlowContext): void {
  if (typeof next === 'string') runFrom(rec, next, ctx);
  else {
    forkTo(rec, from, visit, next);
    runFrom(rec, undefined, ctx);
  }
}

/** Enters one activity; returns the next activity to enter, or undefined when the line rests. */
function enter(rec: Recorder, activityId: string, ctx: FlowContext): string | undefined {
  const activity: Activity | undefined = ctx.definition.activities[activityId];
  if (!activity) {
    raiseIncident(rec, activityId, 'FLOW.UNKNOWN_ACTIVITY', `Activity ${activityId} is not in the definition`);
    return undefined;
  }
  const visit = (rec.live().visits[activityId] ?? 0) + 1;
  rec.record({
    type: 'ActivityEntered',
    data: { activityId, activityType: activity.type, visit, ...rec.onToken() },
  });
  const next = execute(rec, activityId, activity, visit, ctx);
  return typeof next === 'string' || next === undefined ? next : forkTo(rec, activityId, visit, next);
}

/** A fork into the activities a `next` lists, at this entry of `activityId`. */
function forkTo(rec: Recorder, activityId: string, visit: number, next: readonly string[]): undefined {
  fork(
    rec,
    activityId,
    visit,
    next.map((to) => ({ next: to })),
  );
  return undefined;
}

/**
 * A fork: one new line per branch taken, each run once the line moving now rests; the forking line rests
 * at the fork until the branches join. `<activityId>.<visit>` names this entry of the fork, so a fork
 * inside a loop starts new branches each round, and its join counts only those.
 */
function fork(
  rec: Recorder,
  activityId: string,
  visit: number,
  taken: readonly { next: string; expression?: string }[],
  seen?: Record<string, unknown>,
): void {
  if (!roomForLines(rec, activityId, taken.length)) return;
  const forkId = `${activityId}.${visit}`;
  const branches = taken.map((branch, index) => ({ token: `${forkId}.${index}`, next: branch.next }));
  rec.record({
    type: 'BranchesForked',
    data: {
      activityId,
      visit,
      forkId,
      branches,
      ...(seen !== undefined
        ? { expressions: taken.flatMap((b) => (b.expression !== undefined ? [b.expression] : [])), seen }
        : {}),
      ...rec.onToken(),
    },
  });
  for (const branch of branches) rec.pending.push({ token: branch.token, activityId: branch.next });
}

/** The fork entry whose branch `token` is, if any. */
function forkOf(state: LiveInstance, token: string): ForkEntry | undefined {
  const forkId = state.tokens[token]?.forkId;
  if (forkId !== undefined) return state.forks[forkId];
  for (const forkEntry of Object.values(state.forks)) if (forkEntry.tokens.includes(token)) return forkEntry;
  return undefined;
}

/** The branches of a fork entry still running (the others ended at an end). */
const liveBranches = (state: LiveInstance, entry: ForkEntry): string[] =>
  entry.tokens.filter((token) => token in state.tokens);

/**
 * When every live branch of `entry` rests at one join, they join there: the branches end and the line
 * that forked goes on (returned: the join's next, with `rec.token` the forking line). Otherwise undefined.
 */
function joinIfComplete(rec: Recorder, entry: ForkEntry, ctx: FlowContext): string | undefined {
  const state = rec.live();
  const live = liveBranches(state, entry);
  if (live.length === 0) return undefined;
  const at = state.tokens[live[0]!]!;
  const arrived = (t: string): boolean => {
    const line = state.tokens[t]!;
    return line.activityType === 'join' && line.forked === undefined && line.activityId === at.activityId;
  };
  if (!live.every(arrived)) return undefined;
  const activity = ctx.definition.activities[at.activityId];
  if (activity?.type !== 'join') return undefined;
  rec.record({
    type: 'BranchesJoined',
    data: {
      activityId: at.activityId,
      visit: state.visits[at.activityId] ?? at.visit,
      forkId: entry.forkId,
      tokens: live,
      next: activity.next,
      ...(entry.parent === MAIN_TOKEN ? {} : { token: entry.parent }),
    },
  });
  rec.token = entry.parent;
  const { next } = activity;
  return typeof next === 'string' ? next : forkTo(rec, at.activityId, state.visits[at.activityId] ?? at.visit, next);
}

/**
 * A line reached a join: it rests there until every branch of its fork entry still running has arrived,
 * then they end and the line that forked goes on. A line outside any fork passes through.
 */
function join(rec: Recorder, activityId: string, next: Next, ctx: FlowContext): Next | undefined {
  const state = rec.live();
  const entry = forkOf(state, rec.token);
  if (!entry) return next;
  const elsewhere = liveBranches(state, entry)
    .map((token) => state.tokens[token]!)
    .find((t) => t.activityType === 'join' && t.forked === undefined && t.activityId !== activityId);
  if (elsewhere) {
    raiseIncident(
      rec,
      activityId,
      'FLOW.JOIN_MISMATCH',
      `Branches of ${entry.activityId} reached two joins: ${elsewhere.activityId} and ${activityId}`,
    );
    return undefined;
  }
  return joinIfComplete(rec, entry, ctx);
}

/**
 * The line `rec.token` ended at an end. When it was a fork's last running branch, the line that forked
 * ends too (and so on up); when the other branches of its fork all rest at their join, they join; when no
 * line is left, the instance completes.
 */
function lineEnded(rec: Recorder, endActivityId: string, ctx: FlowContext): string | undefined {
  for (;;) {
    const state = rec.live();
    const entry = forkOf(state, rec.token);
    if (!entry) break;
    if (liveBranches(state, entry).length > 0) return joinIfComplete(rec, entry, ctx);
    rec.record({
      type: 'BranchesEnded',
      data: {
        activityId: entry.activityId,
        forkId: entry.forkId,
        endActivityId,
        ...(entry.parent === MAIN_TOKEN ? {} : { token: entry.parent }),
      },
    });
    rec.token = entry.parent;
  }
  if (Object.keys(rec.live().tokens).length === 0) {
    rec.record({ type: 'InstanceCompleted', data: { endActivityId } });
  }
  return undefined;
}

/** Runs an entered activity (also used to retry one after an incident). */
export function execute(
  rec: Recorder,
  activityId: string,
  activity: Activity,
  visit: number,
  ctx: FlowContext,
): Next | undefined {
  const state = rec.live();
  const context = () => feelContext(rec.live(), ctx.entityData);
  switch (activity.type) {
    case 'human': {
      let assignee: { user?: string; role?: string };
      if ('user' in activity.assignee) assignee = { user: activity.assignee.user };
      else if ('role' in activity.assignee) assignee = { role: activity.assignee.role };
      else {
        const expression = activity.assignee.userFrom;
        const outcome = evaluateFeel(expression, context(), ctx.now);
        if (!outcome.ok) {
          raiseIncident(rec, activityId, outcome.code, outcome.message, expression);
          return undefined;
        }
        // A record may name anyone, but not the engine, nor an id that hides characters (user-id.ts).
        if (typeof outcome.value !== 'string' || userIdProblem(outcome.value) !== undefined) {
          raiseIncident(
            rec,
            activityId,
            'TASK.ASSIGNEE_UNRESOLVED',
            `userFrom gave ${JSON.stringify(outcome.value)}, not a user id`,
            expression,
          );
          return undefined;
        }
        assignee = { user: outcome.value };
      }
      let dueAt: string | undefined;
      if (activity.dueIn !== undefined) {
        dueAt = instantAfter(rec, activityId, ctx.now, activity.dueIn);
        if (dueAt === undefined) return undefined;
      }
      rec.record({
        type: 'TaskCreated',
        data: {
          taskId: `${state.instanceId}.${activityId}.${visit}`,
          activityId,
          title: activity.title,
          ...(activity.instructions !== undefined ? { instructions: activity.instructions } : {}),
          ...(activity.hint !== undefined ? { hint: activity.hint } : {}),
          assignee,
          startAt: ctx.now,
          ...(dueAt !== undefined ? { dueAt } : {}),
          ...(activity.results !== undefined ? { results: activity.results } : {}),
          ...(activity.form !== undefined ? { form: activity.form } : {}),
          ...(activity.question !== undefined ? { question: activity.question } : {}),
          rule: activity.assignee,
          ...rec.onToken(),
        },
      });
      return armBoundaries(rec, activityId, activity, visit, ctx);
    }
    case 'automatic': {
      if (activity.set) {
        const variables: Record<string, unknown> = {};
        for (const [name, expression] of Object.entries(activity.set)) {
          const outcome = evaluateFeel(expression, context(), ctx.now);
          if (!outcome.ok) {
            raiseIncident(rec, activityId, outcome.code, `set.${name}: ${outcome.message}`, expression);
            return undefined;
          }
          variables[name] = outcome.value;
        }
        rec.record({ type: 'VariablesSet', data: { activityId, variables } });
      }
      if (activity.emit) {
        const payload: Record<string, unknown> = {};
        for (const [name, expression] of Object.entries(activity.emit.payload ?? {})) {
          const outcome = evaluateFeel(expression, context(), ctx.now);
          if (!outcome.ok) {
            raiseIncident(rec, activityId, outcome.code, `emit.payload.${name}: ${outcome.message}`, expression);
            return undefined;
          }
          payload[name] = outcome.value;
        }
        rec.record({
          type: 'MessageEmitted',
          data: {
            activityId,
            topic: activity.emit.topic,
            messageType: activity.emit.type,
            key: state.instanceId,
            payload,
          },
        });
      }
      return activity.next;
    }
    case 'wait': {
      if (activity.until !== undefined) {
        const outcome = evaluateCondition(activity.until, context(), ctx.now);
        if (!outcome.ok) {
          raiseIncident(rec, activityId, outcome.code, outcome.message, activity.until);
          return undefined;
        }
        if (outcome.value) {
          rec.record({
            type: 'WaitSatisfied',
            data: { activityId, visit, expression: activity.until, seen: outcome.seen },
          });
          return activity.next;
        }
      }
      let timeoutAt: string | undefined;
      if (activity.timeout !== undefined) {
        timeoutAt = instantAfter(rec, activityId, ctx.now, activity.timeout);
        if (timeoutAt === undefined) return undefined;
      }
      rec.record({
        type: 'WaitStarted',
        data: {
          activityId,
          visit,
          ...(activity.until !== undefined ? { until: activity.until } : {}),
          ...(timeoutAt !== undefined ? { timeoutAt } : {}),
          entity: state.entity,
          ...(activity.until !== undefined && ctx.entityEventId !== undefined
            ? { seenEntityEventId: ctx.entityEventId }
            : {}),
          ...rec.onToken(),
        },
      });
      return armBoundaries(rec, activityId, activity, visit, ctx);
    }
    case 'decision': {
      for (const [index, branch] of activity.branches.entries()) {
        const outcome = evaluateCondition(branch.when, context(), ctx.now);
        if (!outcome.ok) {
          raiseIncident(rec, activityId, outcome.code, `branches[${index}]: ${outcome.message}`, branch.when);
          return undefined;
        }
        if (outcome.value) {
          rec.record({
            type: 'DecisionTaken',
            data: { activityId, branch: index, expression: branch.when, next: branch.next, seen: outcome.seen },
          });
          return branch.next;
        }
      }
      rec.record({
        type: 'DecisionTaken',
        data: { activityId, branch: -1, next: activity.otherwise, seen: {} },
      });
      return activity.otherwise;
    }
    case 'service': {
      const jobs = Object.values(state.jobs).filter((j) => j.activityId === activityId && j.visit === visit);
      // An incident retried while this visit's job is still open: that job stands.
      if (jobs.some((j) => j.status === 'open')) return undefined;
      let inputs: Record<string, unknown> = { ...state.variables };
      if (activity.inputs) {
        inputs = {};
        for (const [name, expression] of Object.entries(activity.inputs)) {
          const outcome = evaluateFeel(expression, context(), ctx.now);
          if (!outcome.ok) {
            raiseIncident(rec, activityId, outcome.code, `inputs.${name}: ${outcome.message}`, expression);
            return undefined;
          }
          inputs[name] = outcome.value;
        }
      }
      rec.record({
        type: 'JobCreated',
        data: {
          jobId: `${state.instanceId}.${activityId}.${visit}.${jobs.length + 1}`,
          activityId,
          visit,
          jobType: activity.jobType,
          retries: activity.retries,
          inputs,
          entity: state.entity,
          ...rec.onToken(),
        },
      });
      return undefined;
    }
    case 'end':
      if (activity.terminate === true) {
        cancelChildren(rec, 'the parent completed at a terminate end');
        rec.record({ type: 'InstanceCompleted', data: { endActivityId: activityId } });
        return undefined;
      }
      return lineEnded(rec, activityId, ctx);
    case 'parallel':
      fork(
        rec,
        activityId,
        visit,
        activity.branches.map((next) => ({ next })),
      );
      return undefined;
    case 'inclusive': {
      const taken: { next: string; expression?: string }[] = [];
      const seen: Record<string, unknown> = {};
      for (const [index, branch] of activity.branches.entries()) {
        const outcome = evaluateCondition(branch.when, context(), ctx.now);
        if (!outcome.ok) {
          raiseIncident(rec, activityId, outcome.code, `branches[${index}]: ${outcome.message}`, branch.when);
          return undefined;
        }
        Object.assign(seen, outcome.seen);
        if (outcome.value) taken.push({ next: branch.next, expression: branch.when });
      }
      // None held: the otherwise path, still as a branch, so the join after it counts it like any other.
      if (taken.length === 0) taken.push({ next: activity.otherwise });
      fork(rec, activityId, visit, taken, seen);
      return undefined;
    }
    case 'join':
      return join(rec, activityId, activity.next, ctx);
    case 'subprocess':
      return startChild(rec, activityId, activity, visit, ctx);
    default: {
      const unknown: never = activity;
      throw new Error(`Unknown activity ${JSON.stringify(unknown)}`);
    }
  }
}

// ---- boundary events (README, "Boundary events"; the timers and the record's updates: boundary.ts) ----

export type WithBoundary = HumanActivity | WaitActivity;

export const boundariesOf = (activity: unknown): Boundary[] =>
  (activity as { boundary?: Boundary[] } | undefined)?.boundary ?? [];

/** The line resting at this entry of an activity, and its open task (a human activity) if any. */
export function openEntry(
  state: LiveInstance,
  activityId: string,
  visit: number,
): { token: string; taskId?: string; user?: string; role?: string } | undefined {
  for (const task of Object.values(state.tasks)) {
    if (task.activityId === activityId && task.visit === visit && task.status === 'open') {
      return { token: task.token, taskId: task.taskId, user: task.user, role: task.role };
    }
  }
  const wait = waitAt(state, activityId, visit);
  return wait ? { token: wait.token } : undefined;
}

/**
 * Arms an entered task's or wait's boundary events. A record condition that already holds interrupts at
 * once: the returned activity is where the line goes; undefined, it rests.
 */
export function armBoundaries(
  rec: Recorder,
  activityId: string,
  activity: WithBoundary,
  visit: number,
  ctx: FlowContext,
): Next | undefined {
  const boundary = activity.boundary ?? [];
  const completeWhen = activity.type === 'human' ? activity.completeWhen : undefined;
  if (boundary.length === 0 && completeWhen === undefined) return undefined;
  const timers: { index: number; dueAt: string }[] = [];
  let watches = completeWhen !== undefined;
  for (const [index, b] of boundary.entries()) {
    if ('when' in b) {
      watches = true;
      continue;
    }
    const dueAt = instantAfter(rec, activityId, ctx.now, b.after);
    if (dueAt === undefined) return undefined;
    timers.push({ index, dueAt });
  }
  rec.record({
    type: 'BoundaryEventsArmed',
    data: { activityId, visit, entity: rec.live().entity, timers, watches, ...rec.onToken() },
  });
  return watches ? conditionHolds(rec, activityId, activity, visit, ctx) : undefined;
}

/** The activity was left: its boundary events end (only activities that have some record it). */
export function disarmBoundaries(rec: Recorder, activityId: string, visit: number, ctx: FlowContext): void {
  const activity = ctx.definition.activities[activityId];
  const completeWhen = activity?.type === 'human' ? activity.completeWhen : undefined;
  if (boundariesOf(activity).length === 0 && completeWhen === undefined) return;
  rec.record({ type: 'BoundaryEventsDisarmed', data: { activityId, visit, ...rec.onToken() } });
}

/**
 * Checks an open entry's record conditions against the record; the first that holds interrupts (returned:
 * where its line goes). One that cannot be evaluated raises an incident on the line.
 */
export function conditionHolds(
  rec: Recorder,
  activityId: string,
  activity: WithBoundary,
  visit: number,
  ctx: FlowContext,
  entityEventId?: string,
): Next | undefined {
  for (const [index, b] of (activity.boundary ?? []).entries()) {
    if (!('when' in b)) continue;
    const outcome = evaluateCondition(b.when, feelContext(rec.live(), ctx.entityData), ctx.now);
    if (!outcome.ok) {
      raiseIncident(rec, activityId, outcome.code, `boundary[${index}]: ${outcome.message}`, b.when);
      return undefined;
    }
    if (!outcome.value) continue;
    return interrupt(rec, activityId, visit, index, b.next, {
      kind: 'condition',
      expression: b.when,
      seen: outcome.seen,
      ...(entityEventId !== undefined ? { entityEventId } : {}),
    });
  }
  if (activity.type === 'human' && activity.completeWhen !== undefined) {
    return completedByRecord(rec, activityId, activity, visit, ctx, entityEventId);
  }
  return undefined;
}

/**
 * A task the record completes (`completeWhen`): when the record satisfies the condition, the engine completes
 * the task with that entity event as its cause, and the line goes on.
 */
function completedByRecord(
  rec: Recorder,
  activityId: string,
  activity: HumanActivity,
  visit: number,
  ctx: FlowContext,
  entityEventId: string | undefined,
): Next | undefined {
  const expression = activity.completeWhen!;
  const outcome = evaluateCondition(expression, feelContext(rec.live(), ctx.entityData), ctx.now);
  if (!outcome.ok) {
    raiseIncident(rec, activityId, outcome.code, `completeWhen: ${outcome.message}`, expression);
    return undefined;
  }
  if (!outcome.value) return undefined;
  const open = openEntry(rec.live(), activityId, visit);
  if (open?.taskId === undefined) return undefined;
  rec.record({
    type: 'TaskCompleted',
    data: {
      taskId: open.taskId,
      activityId,
      user: SYSTEM_ID,
      fields: {},
      byRecord: { expression, seen: outcome.seen, ...(entityEventId !== undefined ? { entityEventId } : {}) },
    },
  });
  disarmBoundaries(rec, activityId, visit, ctx);
  // Validation allows completeWhen only with a next that needs no result.
  return typeof activity.next === 'string' || Array.isArray(activity.next) ? activity.next : undefined;
}

/** An interrupting boundary event: the task is cancelled (or the wait left); returns where the line goes. */
export function interrupt(
  rec: Recorder,
  activityId: string,
  visit: number,
  index: number,
  next: string,
  extra: {
    kind: 'timer' | 'condition';
    dueAt?: string;
    expression?: string;
    seen?: Record<string, unknown>;
    entityEventId?: string;
  },
): string {
  const open = openEntry(rec.live(), activityId, visit);
  rec.record({
    type: 'BoundaryTriggered',
    data: { activityId, visit, index, interrupting: true, next, ...extra, ...rec.onToken() },
  });
  if (open?.taskId !== undefined) {
    rec.record({
      type: 'TaskCancelled',
      data: {
        taskId: open.taskId,
        activityId,
        reason: extra.kind === 'timer' ? `boundary timer ${index}` : `boundary condition ${index}: ${extra.expression}`,
      },
    });
  }
  return next;
}

// ---- sub-processes ("Execute Process"; the child's side and its reports: decide.ts, the reactions) ----

/** Incident codes of `subprocess` activities. */
export const SUBPROCESS_FAILED = 'SUBPROCESS.FAILED';
/** Children of children at most this deep: a definition that calls itself stops with an incident, not a flood. */
export const MAX_SUBPROCESS_DEPTH = 10;

/** Starts the child of a `subprocess` activity: its inputs, its record, its id; the line rests until it ends. */
function startChild(
  rec: Recorder,
  activityId: string,
  activity: SubprocessActivity,
  visit: number,
  ctx: FlowContext,
): undefined {
  const state = rec.live();
  if (ctx.childInstanceId === undefined) {
    raiseIncident(rec, activityId, 'SUBPROCESS.UNAVAILABLE', 'Sub-processes cannot start in this run');
    return undefined;
  }
  const context = feelContext(state, ctx.entityData);
  const variables: Record<string, unknown> = {};
  for (const [name, expression] of Object.entries(activity.inputs ?? {})) {
    const outcome = evaluateFeel(expression, context, ctx.now);
    if (!outcome.ok) {
      raiseIncident(rec, activityId, outcome.code, `inputs.${name}: ${outcome.message}`, expression);
      return undefined;
    }
    variables[name] = outcome.value;
  }
  let entity = state.entity;
  if (activity.record !== undefined) {
    const outcome = evaluateFeel(activity.record.id, context, ctx.now);
    if (!outcome.ok) {
      raiseIncident(rec, activityId, outcome.code, `record.id: ${outcome.message}`, activity.record.id);
      return undefined;
    }
    const id = typeof outcome.value === 'number' ? String(outcome.value) : outcome.value;
    const problem = entityIdProblem(id);
    if (problem !== undefined) {
      raiseIncident(
        rec,
        activityId,
        'SUBPROCESS.RECORD_UNRESOLVED',
        `record.id gave ${JSON.stringify(outcome.value)}: ${problem}`,
        activity.record.id,
      );
      return undefined;
    }
    entity = { type: activity.record.type, id: id as string };
  }
  const depth = (state.cause.kind === 'parent' ? (state.cause.depth ?? 1) : 0) + 1;
  if (depth > MAX_SUBPROCESS_DEPTH) {
    raiseIncident(
      rec,
      activityId,
      'SUBPROCESS.TOO_DEEP',
      `A sub-process may start children at most ${MAX_SUBPROCESS_DEPTH} deep (does ${activity.process} call itself?)`,
    );
    return undefined;
  }
  const attempt =
    Object.values(state.children ?? {}).filter((c) => c.activityId === activityId && c.visit === visit).length + 1;
  rec.record({
    type: 'SubprocessStarted',
    data: {
      activityId,
      visit,
      childInstanceId: ctx.childInstanceId(`${state.instanceId}/${activityId}/${visit}/${attempt}`),
      definitionKey: activity.process,
      ...(activity.version !== undefined ? { definitionVersion: activity.version } : {}),
      entity,
      variables,
      depth,
      ...rec.onToken(),
    },
  });
  return undefined;
}

/** The instance is ending (or leaving every activity): its running children are terminated by the reactions. */
export function cancelChildren(rec: Recorder, reason: string): void {
  const state = rec.live();
  for (const child of Object.values(state.children ?? {})) {
    if (child.status !== 'running') continue;
    rec.record({
      type: 'SubprocessCancelled',
      data: { activityId: child.activityId, childInstanceId: child.childInstanceId, entity: child.entity, reason },
    });
  }
}
