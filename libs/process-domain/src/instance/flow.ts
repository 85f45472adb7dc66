import type { Activity, ProcessDefinition } from '../definition/definition';
import { addDuration } from '../definition/duration';
import { DomainError } from '../errors';
import type { EntityRef, InstanceEvent } from '../events';
import { evaluateCondition, evaluateFeel } from '../feel/feel';
import type { Decision } from '../decider';
import { evolve, type InstanceState, type LiveInstance } from './state';
import { userIdProblem } from './user-id';

/** Steps one command may take through automatic activities and decisions before we call it a loop. */
export const MAX_STEPS_PER_COMMAND = 1000;

export interface FlowContext {
  now: string;
  definition: ProcessDefinition;
  /** The version of `definition` (the one recorded on the instance stream). */
  definitionVersion: number;
  /** The related record as last recorded (`{}` when none was ever recorded). */
  entityData: Record<string, unknown>;
  /** The envelope `entityData` comes from, when known: a wait remembers which version of the record it saw. */
  entityEventId?: string;
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
  constructor(public state: InstanceState) {}
  record(event: InstanceEvent): void {
    this.events.push(event);
    this.state = evolve(this.state, event);
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
    },
  });
}

/** Incident code when a definition's duration gives no valid instant (one published before durations were bounded). */
export const INVALID_DURATION = 'FLOW.INVALID_DURATION';

/**
 * `now` plus the activity's duration, or an incident at the activity (and undefined) when that is no
 * valid instant: a definition stored before durations were bounded must stop its instance, not the engine.
 */
function instantAfter(rec: Recorder, activityId: string, now: string, duration: string): string | undefined {
  try {
    return addDuration(now, duration);
  } catch (error) {
    if (!(error instanceof DomainError)) throw error;
    raiseIncident(rec, activityId, INVALID_DURATION, `${duration}: ${error.message}`);
    return undefined;
  }
}

/**
 * Enters `activityId` and runs the flow until it rests: at a task, a wait, an incident or the end.
 * Automatic activities and decisions run within the same command (one append, one stream).
 */
export function runFrom(rec: Recorder, activityId: string, ctx: FlowContext): void {
  let next: string | undefined = activityId;
  let steps = 0;
  while (next !== undefined) {
    if (++steps > MAX_STEPS_PER_COMMAND) {
      raiseIncident(rec, next, 'FLOW.LOOP', `More than ${MAX_STEPS_PER_COMMAND} steps without a rest`);
      return;
    }
    next = enter(rec, next, ctx);
  }
}

/** Enters one activity; returns the next activity to enter, or undefined when the flow rests. */
function enter(rec: Recorder, activityId: string, ctx: FlowContext): string | undefined {
  const activity: Activity | undefined = ctx.definition.activities[activityId];
  if (!activity) {
    raiseIncident(rec, activityId, 'FLOW.UNKNOWN_ACTIVITY', `Activity ${activityId} is not in the definition`);
    return undefined;
  }
  const visit = (rec.live().visits[activityId] ?? 0) + 1;
  rec.record({ type: 'ActivityEntered', data: { activityId, activityType: activity.type, visit } });
  return execute(rec, activityId, activity, visit, ctx);
}

/** Runs an entered activity (also used to retry one after an incident). */
export function execute(
  rec: Recorder,
  activityId: string,
  activity: Activity,
  visit: number,
  ctx: FlowContext,
): string | undefined {
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
        },
      });
      return undefined;
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
        },
      });
      return undefined;
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
        },
      });
      return undefined;
    }
    case 'end':
      rec.record({ type: 'InstanceCompleted', data: { endActivityId: activityId } });
      return undefined;
    default: {
      const unknown: never = activity;
      throw new Error(`Unknown activity ${JSON.stringify(unknown)}`);
    }
  }
}
