import type { HumanActivity, ProcessDefinition } from '../definition/definition';
import type { IncidentRaised, InstanceEvent } from '../events';
import { evaluateCondition, evaluateFeel } from '../feel/feel';
import type {
  Actor,
  CheckWait,
  CompleteSubprocess,
  FailSubprocess,
  MirrorChildIncident,
  ClaimTask,
  CompleteTask,
  FireWaitTimeout,
  InstanceCommand,
  PostponeTask,
  ReassignTask,
  ReleaseTask,
  RetryIncident,
  StartInstance,
} from './commands';
import { isAdmin } from './commands';
import { userIdProblem } from './user-id';
import {
  cancelChildren,
  continueFrom,
  disarmBoundaries,
  execute,
  feelContext,
  raiseIncident,
  Recorder,
  roomForLines,
  runFrom,
  SUBPROCESS_FAILED,
  type FlowContext,
} from './flow';
import { decideJob } from './jobs';
import { decideMigration } from './migrate';
import { checkBoundaryConditions, fireBoundaryTimer } from './boundary';
import {
  DefinitionVersionMismatch,
  IncidentNotFound,
  IncidentOnChild,
  InstanceNotFound,
  InstanceNotRunning,
  InstanceNotSuspended,
  InstanceSuspendedError,
  InvalidAnswer,
  InvalidPostpone,
  InvalidReassign,
  InvalidTaskField,
  InvalidTaskResult,
  RequiredFieldMissing,
  TaskAlreadyClaimed,
  TaskAlreadyCompleted,
  TaskCancelledError,
  TaskNotAssignable,
  TaskNotClaimed,
  TaskNotFound,
  TaskNotReleasable,
} from './instance-errors';
import {
  asChildEvent,
  evolve,
  initialState,
  MAIN_TOKEN,
  openWaits,
  waitAt,
  type ChildState,
  type InstanceState,
  type LiveInstance,
  type OpenWait,
  type TaskState,
} from './state';
import { foldEvents, type Decider, type Decision } from '../decider';

/** The instance stream's decider, for the command pipeline. */
export const instanceDecider: Decider<InstanceState, InstanceCommand, InstanceEvent, DecideContext> = {
  initialState,
  evolve,
  decide: (state, command, context) => decide(state, command, context),
  decideState: (state, command, context) => decideState(state, command, context),
};

/** Everything a decision needs from outside: time, who acts, the definition version, the record. */
export interface DecideContext extends FlowContext {
  actor: Actor;
  /** For MigrateInstance only: the version the instance runs (`definition` is then the target). */
  fromDefinition?: ProcessDefinition;
}

/**
 * The instance decider: given the state of one instance stream and a command, the events to append.
 * Commands the process manager repeats after a crash (start, check wait, timeout) answer [] once applied.
 */
export function decide(state: InstanceState, command: InstanceCommand, ctx: DecideContext): InstanceEvent[] {
  return decideState(state, command, ctx).events;
}

/** The decision's events can no longer change the instance: the state they lead to is this one. */
const unchanged = (state: InstanceState): Decision<InstanceState, InstanceEvent> => ({ events: [], state });

/** Events decided without a Recorder, and the state they lead to. */
const folded = (state: InstanceState, events: InstanceEvent[]): Decision<InstanceState, InstanceEvent> => ({
  events,
  state: foldEvents({ evolve }, events, state),
});

/** `decide`, with the state its events lead to (the Recorder folded them already: the pipeline need not again). */
export function decideState(
  state: InstanceState,
  command: InstanceCommand,
  ctx: DecideContext,
): Decision<InstanceState, InstanceEvent> {
  if (command.type === 'StartInstance') return start(state, command, ctx);
  if (state.status === 'none') throw new InstanceNotFound('No such instance');
  // Decided against both versions, so before the check that the context names the instance's own.
  if (command.type === 'MigrateInstance') return decideMigration(state, command, ctx);
  if (state.definitionVersion !== ctx.definitionVersion || state.definitionKey !== ctx.definition.key) {
    throw new DefinitionVersionMismatch(
      `Instance runs ${state.definitionKey} v${state.definitionVersion}, not ${ctx.definition.key} v${ctx.definitionVersion}`,
    );
  }
  switch (command.type) {
    case 'ClaimTask':
      return folded(state, claim(state, command, ctx));
    case 'ReleaseTask':
      return folded(state, release(state, command, ctx));
    case 'ReassignTask':
      return folded(state, reassign(state, command, ctx));
    case 'PostponeTask':
      return folded(state, postpone(state, command, ctx));
    case 'CompleteTask':
      return complete(state, command, ctx);
    case 'CheckWait':
      return checkWait(state, command, ctx);
    case 'FireWaitTimeout':
      return fireTimeout(state, command, ctx);
    case 'FireBoundaryTimer':
      return fireBoundaryTimer(state, command, ctx);
    case 'SuspendInstance':
      if (state.status !== 'running') throw new InstanceNotRunning(`Instance is ${state.status}`);
      return folded(state, [
        {
          type: 'InstanceSuspended',
          data: { by: ctx.actor.id, ...(command.reason ? { reason: command.reason } : {}) },
        },
      ]);
    case 'ResumeInstance':
      return resume(state, ctx);
    case 'TerminateInstance': {
      if (state.status !== 'running' && state.status !== 'suspended') {
        if (command.ifRunning === true) return unchanged(state);
        throw new InstanceNotRunning(`Instance is ${state.status}`);
      }
      const rec = new Recorder(state);
      cancelChildren(rec, 'the parent was terminated');
      rec.record({
        type: 'InstanceTerminated',
        data: { by: ctx.actor.id, ...(command.reason ? { reason: command.reason } : {}) },
      });
      return rec.decision();
    }
    case 'CompleteSubprocess':
      return completeSubprocess(state, command, ctx);
    case 'FailSubprocess':
      return failSubprocess(state, command);
    case 'MirrorChildIncident':
      return mirrorChildIncident(state, command);
    case 'RetryIncident':
      return retry(state, command, ctx);
    case 'LockJob':
    case 'ExtendJobLock':
    case 'CompleteJob':
    case 'FailJob':
    case 'ThrowJobError':
    case 'FireJobRetry':
      return folded(state, decideJob(state, command, ctx));
    default: {
      const unknown: never = command;
      throw new Error(`Unknown command ${JSON.stringify(unknown)}`);
    }
  }
}

function start(
  state: InstanceState,
  command: StartInstance,
  ctx: DecideContext,
): Decision<InstanceState, InstanceEvent> {
  if (state.status !== 'none') return unchanged(state); // already started: the process manager repeated itself
  if (command.definitionKey !== ctx.definition.key || command.definitionVersion !== ctx.definitionVersion) {
    throw new DefinitionVersionMismatch('The command names another definition version than the context');
  }
  const rec = new Recorder(state);
  rec.record({
    type: 'InstanceStarted',
    data: {
      instanceId: command.instanceId,
      definitionKey: command.definitionKey,
      definitionVersion: command.definitionVersion,
      definitionName: ctx.definition.name,
      entity: command.entity,
      variables: command.variables,
      cause: command.cause,
      ...(ctx.definition.onRecordDeleted !== undefined && ctx.definition.onRecordDeleted !== 'continue'
        ? { onRecordDeleted: ctx.definition.onRecordDeleted }
        : {}),
      ...(ctx.definition.conditionalStarts !== undefined ? { watchesRecord: true as const } : {}),
    },
  });
  runFrom(rec, ctx.definition.start, ctx);
  return rec.decision();
}

function requireRunning(state: LiveInstance): void {
  if (state.status === 'suspended') throw new InstanceSuspendedError('Instance is suspended');
  if (state.status !== 'running') throw new InstanceNotRunning(`Instance is ${state.status}`);
}

/** May this actor act on the task at all? Role members and the assignee may; admins always. */
function eligible(task: TaskState, actor: Actor): boolean {
  return isAdmin(actor) || task.user === actor.id || (task.role !== undefined && actor.roles.includes(task.role));
}

function openTask(state: LiveInstance, taskId: string, actor: Actor): TaskState {
  const task = state.tasks[taskId];
  // One answer for "no such task" and "not yours to act on": the id tells an outsider nothing.
  if (!task || !eligible(task, actor)) throw new TaskNotFound('No such task');
  if (task.status === 'completed') throw new TaskAlreadyCompleted('The task is already completed');
  if (task.status === 'cancelled') {
    if (state.status === 'running' || state.status === 'suspended') {
      throw new TaskCancelledError('The task was cancelled by a boundary event (an escalation or a record condition)');
    }
    throw new InstanceNotRunning('The task was cancelled with its instance');
  }
  requireRunning(state);
  return task;
}

/** The task belongs to the actor now: preassigned or claimed by them (or they are an admin). */
function requireHolder(task: TaskState, actor: Actor): void {
  if (task.user === actor.id || isAdmin(actor)) return;
  if (task.user !== undefined) throw new TaskAlreadyClaimed('Another user holds this task');
  throw new TaskNotClaimed('Claim the task first');
}

function claim(state: LiveInstance, command: ClaimTask, ctx: DecideContext): InstanceEvent[] {
  const task = openTask(state, command.taskId, ctx.actor);
  if (task.user === ctx.actor.id && task.claimed) return []; // claiming twice is harmless
  if (task.user !== undefined && task.user !== ctx.actor.id && task.claimed) {
    throw new TaskAlreadyClaimed('Another user has claimed this task');
  }
  if (task.user !== undefined && task.user !== ctx.actor.id && !isAdmin(ctx.actor)) {
    throw new TaskNotAssignable('This task is assigned to another user');
  }
  return [{ type: 'TaskClaimed', data: { taskId: task.taskId, user: ctx.actor.id } }];
}

function release(state: LiveInstance, command: ReleaseTask, ctx: DecideContext): InstanceEvent[] {
  const task = openTask(state, command.taskId, ctx.actor);
  if (task.user === undefined) throw new TaskNotClaimed('Nobody holds this task');
  requireHolder(task, ctx.actor);
  if (task.role === undefined) {
    throw new TaskNotReleasable('The task has no role to go back to; reassign it instead');
  }
  return [{ type: 'TaskReleased', data: { taskId: task.taskId, user: task.user, role: task.role } }];
}

function reassign(state: LiveInstance, command: ReassignTask, ctx: DecideContext): InstanceEvent[] {
  const task = openTask(state, command.taskId, ctx.actor);
  if (!isAdmin(ctx.actor) && task.user !== ctx.actor.id) {
    throw new TaskNotAssignable('Only the assignee or an admin may reassign this task');
  }
  const to = 'user' in command.to ? { user: command.to.user } : { role: command.to.role };
  const target = to.user ?? to.role;
  if (typeof target !== 'string' || target.trim() === '' || target.length > 200) {
    throw new InvalidReassign('Reassign to a non-empty user or role');
  }
  const problem = to.user !== undefined ? userIdProblem(to.user) : undefined;
  if (problem) throw new InvalidReassign(`Cannot reassign to this user: ${problem}`);
  return [
    {
      type: 'TaskReassigned',
      data: {
        taskId: task.taskId,
        from: { ...(task.user ? { user: task.user } : {}), ...(task.role ? { role: task.role } : {}) },
        to,
      },
    },
  ];
}

function postpone(state: LiveInstance, command: PostponeTask, ctx: DecideContext): InstanceEvent[] {
  const task = openTask(state, command.taskId, ctx.actor);
  if (task.user !== undefined) requireHolder(task, ctx.actor);
  const until = Date.parse(command.until);
  if (Number.isNaN(until)) throw new InvalidPostpone('`until` is not a date-time');
  if (until <= Date.parse(ctx.now)) throw new InvalidPostpone('`until` must be in the future');
  let dueAt: string | undefined;
  if (command.dueAt !== undefined) {
    const due = Date.parse(command.dueAt);
    if (Number.isNaN(due)) throw new InvalidPostpone('`dueAt` is not a date-time');
    if (due < until) throw new InvalidPostpone('`dueAt` must not be before `until`');
    dueAt = new Date(due).toISOString();
  }
  return [
    {
      type: 'TaskPostponed',
      data: { taskId: task.taskId, until: new Date(until).toISOString(), ...(dueAt ? { dueAt } : {}) },
    },
  ];
}

function checkFields(task: TaskState, fields: Record<string, unknown>): void {
  const form = task.form ?? [];
  const known = new Set(form.map((f) => f.name));
  for (const name of Object.keys(fields)) {
    if (!known.has(name)) throw new InvalidTaskField(`Unknown field ${name}`, { field: name });
  }
  for (const field of form) {
    const value = fields[field.name];
    const empty = value === undefined || value === null || (typeof value === 'string' && value.trim() === '');
    if (empty) {
      if (field.required) throw new RequiredFieldMissing(`Field ${field.name} is required`, { field: field.name });
      continue;
    }
    const ok =
      field.type === 'text'
        ? typeof value === 'string' && value.length <= 10_000
        : field.type === 'number'
          ? typeof value === 'number' && Number.isFinite(value)
          : field.type === 'boolean'
            ? typeof value === 'boolean'
            : typeof value === 'string' && /^\d{4}-\d{2}-\d{2}/.test(value) && !Number.isNaN(Date.parse(value));
    if (!ok) throw new InvalidTaskField(`Field ${field.name} must be a ${field.type}`, { field: field.name });
  }
}

function checkAnswers(task: TaskState, answers: string[] | undefined): void {
  const question = task.question;
  if (!question) {
    if (answers !== undefined && answers.length > 0) throw new InvalidAnswer('This task asks no question');
    return;
  }
  if (!answers || answers.length === 0) throw new InvalidAnswer('Answer the question');
  if (!question.multiple && answers.length !== 1) throw new InvalidAnswer('Give exactly one answer');
  if (new Set(answers).size !== answers.length) throw new InvalidAnswer('An answer is repeated');
  for (const answer of answers) {
    if (!question.options.includes(answer)) {
      throw new InvalidAnswer(`"${answer}" is not one of the options`, { options: question.options });
    }
  }
}

function complete(
  state: LiveInstance,
  command: CompleteTask,
  ctx: DecideContext,
): Decision<InstanceState, InstanceEvent> {
  const task = openTask(state, command.taskId, ctx.actor);
  const rec = new Recorder(state, task.token);
  if (task.user !== undefined) requireHolder(task, ctx.actor);
  if (task.results && task.results.length > 0) {
    if (command.result === undefined || !task.results.includes(command.result)) {
      throw new InvalidTaskResult(`The result must be one of ${task.results.join(', ')}`, { results: task.results });
    }
  } else if (command.result !== undefined) {
    throw new InvalidTaskResult('This task takes no result');
  }
  const fields = command.fields ?? {};
  checkFields(task, fields);
  checkAnswers(task, command.answers);
  if (task.user === undefined) rec.record({ type: 'TaskClaimed', data: { taskId: task.taskId, user: ctx.actor.id } });
  rec.record({
    type: 'TaskCompleted',
    data: {
      taskId: task.taskId,
      activityId: task.activityId,
      user: ctx.actor.id,
      ...(command.result !== undefined ? { result: command.result } : {}),
      fields,
      ...(command.answers !== undefined ? { answers: command.answers } : {}),
    },
  });
  disarmBoundaries(rec, task.activityId, task.visit, ctx);
  const activity = ctx.definition.activities[task.activityId] as HumanActivity | undefined;
  if (activity) {
    const next =
      typeof activity.next === 'string' || Array.isArray(activity.next)
        ? activity.next
        : command.result !== undefined
          ? activity.next[command.result]
          : undefined;
    if (next !== undefined) continueFrom(rec, task.activityId, task.visit, next, ctx);
  }
  return rec.decision();
}

/** Has the line `token` an open incident (it stays where it stopped until the incident is resolved)? */
const stopped = (state: LiveInstance, token: string): boolean =>
  Object.values(state.incidents).some((incident) => incident.token === token);

/** The record changed: every open wait whose `until` now holds goes on, each on its own line. */
function checkWait(
  state: LiveInstance,
  command: CheckWait,
  ctx: DecideContext,
): Decision<InstanceState, InstanceEvent> {
  if (command.recordDeleted === true) {
    const deleted = recordDeleted(state, command, ctx);
    if (deleted) return deleted;
  }
  if (state.status !== 'running') return unchanged(state);
  const rec = new Recorder(state);
  // A record condition on a task or wait interrupts it before its own `until` is looked at.
  checkBoundaryConditions(rec, ctx, command.entityEventId);
  if (command.entityEventId !== undefined) startConditionalBranches(rec, command.entityEventId, ctx);
  for (const wait of openWaits(state)) {
    const now = rec.live();
    // An earlier wait's path may have ended the instance, or cancelled this wait.
    if (now.status !== 'running' || !waitAt(now, wait.activityId, wait.visit)) continue;
    if (wait.until === undefined || stopped(now, wait.token)) continue;
    checkOneWait(rec, wait, command, ctx);
  }
  return rec.decision();
}

/** An entity event of the record: each conditional start whose `when` holds starts a new line (README). */
function startConditionalBranches(rec: Recorder, entityEventId: string, ctx: DecideContext): void {
  for (const [index, start] of (ctx.definition.conditionalStarts ?? []).entries()) {
    if (rec.live().status !== 'running') return;
    rec.token = MAIN_TOKEN;
    const outcome = evaluateCondition(start.when, feelContext(rec.live(), ctx.entityData), ctx.now);
    if (!outcome.ok) {
      raiseIncident(rec, start.next, outcome.code, `conditionalStarts[${index}]: ${outcome.message}`, start.when);
      continue;
    }
    if (!outcome.value) continue;
    if (!roomForLines(rec, start.next, 1)) return;
    const token = `on.${(rec.live().conditionalStarted ?? 0) + 1}`;
    rec.record({
      type: 'ConditionalBranchStarted',
      data: { index, token, next: start.next, expression: start.when, seen: outcome.seen, entityEventId },
    });
    rec.token = token;
    runFrom(rec, start.next, ctx);
  }
}

/** The record was deleted: the definition's `onRecordDeleted`, unless it is `continue` (then undefined). */
function recordDeleted(
  state: LiveInstance,
  command: CheckWait,
  ctx: DecideContext,
): Decision<InstanceState, InstanceEvent> | undefined {
  const policy = ctx.definition.onRecordDeleted;
  if (policy === undefined || policy === 'continue') return undefined;
  if (state.status !== 'running' && state.status !== 'suspended') return unchanged(state);
  const rec = new Recorder(state);
  const cause = command.entityEventId !== undefined ? { entityEventId: command.entityEventId } : {};
  cancelChildren(rec, 'the record was deleted');
  if (policy === 'terminate') {
    rec.record({ type: 'RecordDeleted', data: { ...cause, policy: 'terminate' } });
    rec.record({ type: 'InstanceTerminated', data: { by: ctx.actor.id, reason: 'the record was deleted' } });
    return rec.decision();
  }
  rec.record({ type: 'RecordDeleted', data: { ...cause, policy: 'next', next: policy.next } });
  if (state.status === 'running') runFrom(rec, policy.next, ctx);
  return rec.decision();
}

function checkOneWait(rec: Recorder, wait: OpenWait, command: CheckWait, ctx: DecideContext): void {
  const until = wait.until!;
  rec.token = wait.token;
  const outcome = evaluateCondition(until, feelContext(rec.live(), ctx.entityData), ctx.now);
  if (!outcome.ok) {
    raiseIncident(rec, wait.activityId, outcome.code, outcome.message, until);
    return;
  }
  if (!outcome.value) return;
  rec.record({
    type: 'WaitSatisfied',
    data: {
      activityId: wait.activityId,
      visit: wait.visit,
      expression: until,
      seen: outcome.seen,
      ...(command.entityEventId !== undefined ? { entityEventId: command.entityEventId } : {}),
      ...(command.entitySource !== undefined ? { entitySource: command.entitySource } : {}),
    },
  });
  disarmBoundaries(rec, wait.activityId, wait.visit, ctx);
  const activity = ctx.definition.activities[wait.activityId];
  if (activity?.type === 'wait') continueFrom(rec, wait.activityId, wait.visit, activity.next, ctx);
}

function fireTimeout(
  state: LiveInstance,
  command: FireWaitTimeout,
  ctx: DecideContext,
): Decision<InstanceState, InstanceEvent> {
  if (state.status !== 'running') return unchanged(state);
  const wait = waitAt(state, command.activityId, command.visit);
  if (!wait || wait.timeoutAt === undefined) return unchanged(state); // a stale timer
  if (Date.parse(wait.timeoutAt) > Date.parse(ctx.now)) return unchanged(state); // not due yet
  const activity = ctx.definition.activities[wait.activityId];
  if (activity?.type !== 'wait') return unchanged(state);
  const next = activity.onTimeout ?? activity.next;
  const rec = new Recorder(state, wait.token);
  rec.record({
    type: 'WaitTimedOut',
    data: { activityId: wait.activityId, visit: wait.visit, timeoutAt: wait.timeoutAt, next },
  });
  disarmBoundaries(rec, wait.activityId, wait.visit, ctx);
  continueFrom(rec, wait.activityId, wait.visit, next, ctx);
  return rec.decision();
}

function resume(state: LiveInstance, ctx: DecideContext): Decision<InstanceState, InstanceEvent> {
  if (state.status !== 'suspended') throw new InstanceNotSuspended(`Instance is ${state.status}`);
  const rec = new Recorder(state);
  rec.record({ type: 'InstanceResumed', data: { by: ctx.actor.id } });
  // The record was deleted while it was suspended: the definition's path starts now.
  if (state.resumeAt !== undefined) {
    runFrom(rec, state.resumeAt, ctx);
    return rec.decision();
  }
  // Children that completed while it was suspended: their lines go on now.
  for (const child of Object.values(state.children ?? {})) {
    const line = rec.live().tokens[child.token];
    if (child.status !== 'completed' || line?.activityId !== child.activityId || line.visit !== child.visit) continue;
    const activity = ctx.definition.activities[child.activityId];
    if (activity?.type !== 'subprocess' || rec.live().status !== 'running') continue;
    rec.token = child.token;
    continueFrom(rec, child.activityId, child.visit, activity.next, ctx);
  }
  // What happened while it was suspended takes effect now: due timeouts, then a record that changed.
  const apply = (decision: Decision<InstanceState, InstanceEvent>) => decision.events.forEach((e) => rec.record(e));
  for (const wait of openWaits(state)) {
    if (wait.timeoutAt !== undefined && Date.parse(wait.timeoutAt) <= Date.parse(ctx.now)) {
      const now = rec.live();
      if (now.status !== 'running') break;
      apply(fireTimeout(now, { type: 'FireWaitTimeout', activityId: wait.activityId, visit: wait.visit }, ctx));
    }
  }
  const now = rec.live();
  if (now.status === 'running') apply(checkWait(now, { type: 'CheckWait' }, ctx));
  return rec.decision();
}

function retry(
  state: LiveInstance,
  command: RetryIncident,
  ctx: DecideContext,
): Decision<InstanceState, InstanceEvent> {
  const incident = state.incidents[command.incidentId];
  if (!incident) throw new IncidentNotFound(`No open incident ${command.incidentId}`);
  if (incident.child !== undefined) {
    throw new IncidentOnChild(`Retry it on the child instance ${incident.child.instanceId}; it clears here with it`, {
      childInstanceId: incident.child.instanceId,
      incidentId: incident.child.incidentId,
    });
  }
  requireRunning(state);
  const rec = new Recorder(state, incident.token);
  rec.record({
    type: 'IncidentResolved',
    data: { incidentId: incident.incidentId, activityId: incident.activityId, by: ctx.actor.id },
  });
  const activity = ctx.definition.activities[incident.activityId];
  const line = state.tokens[incident.token];
  const visit = line?.activityId === incident.activityId ? line.visit : (state.visits[incident.activityId] ?? 1);
  if (activity) {
    // Retry the activity where it stopped; what it produces next runs on as usual.
    const next = execute(rec, incident.activityId, activity, visit, ctx);
    if (next !== undefined && rec.live().status === 'running' && !stopped(rec.live(), rec.token)) {
      continueFrom(rec, incident.activityId, visit, next, ctx);
    } else runFrom(rec, undefined, ctx);
  }
  return rec.decision();
}

/**
 * The incident that records a failure met while acting on this instance from outside a decision (a
 * command of the process manager or a timer that threw): at the open wait, else the current activity.
 * Undefined when the instance has ended or never started: there is nothing left to stop.
 */
export function incidentForFailure(
  state: InstanceState,
  failure: { code: string; message: string },
): IncidentRaised | undefined {
  if (state.status !== 'running' && state.status !== 'suspended') return undefined;
  const activityId = openWaits(state)[0]?.activityId ?? state.current?.activityId;
  if (activityId === undefined) return undefined;
  return asChildEvent(state, {
    type: 'IncidentRaised',
    data: {
      incidentId: `${activityId}-${state.incidentsRaised + 1}`,
      activityId,
      code: failure.code,
      message: failure.message,
    },
  }) as IncidentRaised;
}

/** A child completed: its outputs become the parent's variables and the line goes on (when resumed, if suspended). */
function completeSubprocess(
  state: LiveInstance,
  command: CompleteSubprocess,
  ctx: DecideContext,
): Decision<InstanceState, InstanceEvent> {
  const child = state.children?.[command.childInstanceId];
  // Told twice, or about a child the parent no longer waits for (cancelled, failed, ended with the parent).
  if (!child || child.status !== 'running') return unchanged(state);
  if (state.status !== 'running' && state.status !== 'suspended') return unchanged(state);
  const activity = ctx.definition.activities[child.activityId];
  if (activity?.type !== 'subprocess') return unchanged(state);
  const rec = new Recorder(state, child.token);
  const context = { ...feelContext(state, ctx.entityData), child: command.variables };
  const variables: Record<string, unknown> = {};
  for (const [name, expression] of Object.entries(activity.outputs ?? {})) {
    const outcome = evaluateFeel(expression, context, ctx.now);
    if (!outcome.ok) {
      const message = `outputs.${name}: ${outcome.message}`;
      childFailed(rec, child, outcome.code, message, { code: outcome.code, message, expression });
      return rec.decision();
    }
    variables[name] = outcome.value;
  }
  rec.record({
    type: 'SubprocessCompleted',
    data: {
      activityId: child.activityId,
      visit: child.visit,
      childInstanceId: child.childInstanceId,
      variables,
      ...rec.onToken(),
    },
  });
  if (state.status === 'running') continueFrom(rec, child.activityId, child.visit, activity.next, ctx);
  return rec.decision();
}

/** The child could not start, or was terminated: an incident at the activity; retrying it starts a new child. */
function failSubprocess(state: LiveInstance, command: FailSubprocess): Decision<InstanceState, InstanceEvent> {
  const child = state.children?.[command.childInstanceId];
  if (!child || child.status !== 'running') return unchanged(state);
  if (state.status !== 'running' && state.status !== 'suspended') return unchanged(state);
  const rec = new Recorder(state, child.token);
  childFailed(rec, child, command.code, command.message, {
    code: SUBPROCESS_FAILED,
    message: `${command.code}: ${command.message}`,
  });
  return rec.decision();
}

/** The parent gives up on a child (`SubprocessFailed`) and stops its line with an incident a retry answers. */
function childFailed(
  rec: Recorder,
  child: ChildState,
  code: string,
  message: string,
  incident: { code: string; message: string; expression?: string },
): void {
  rec.record({
    type: 'SubprocessFailed',
    data: {
      activityId: child.activityId,
      visit: child.visit,
      childInstanceId: child.childInstanceId,
      code,
      message,
      ...rec.onToken(),
    },
  });
  raiseIncident(rec, child.activityId, incident.code, incident.message, incident.expression);
}

/** A child's incident shows on the parent, at the activity that started it, until the child's is resolved. */
function mirrorChildIncident(
  state: LiveInstance,
  command: MirrorChildIncident,
): Decision<InstanceState, InstanceEvent> {
  const child = state.children?.[command.childInstanceId];
  if (!child || (state.status !== 'running' && state.status !== 'suspended')) return unchanged(state);
  const mirrored = Object.values(state.incidents).find(
    (i) => i.child?.instanceId === command.childInstanceId && i.child.incidentId === command.incidentId,
  );
  const rec = new Recorder(state, child.token);
  if (command.resolved) {
    if (!mirrored) return unchanged(state);
    rec.record({
      type: 'IncidentResolved',
      data: { incidentId: mirrored.incidentId, activityId: mirrored.activityId, by: 'system' },
    });
    return rec.decision();
  }
  if (mirrored || child.status !== 'running') return unchanged(state);
  rec.record({
    type: 'IncidentRaised',
    data: {
      incidentId: `${child.activityId}-${state.incidentsRaised + 1}`,
      activityId: child.activityId,
      code: 'SUBPROCESS.INCIDENT',
      message: `The child ${command.childInstanceId} has an incident: ${command.code}: ${command.message}`,
      child: { instanceId: command.childInstanceId, incidentId: command.incidentId },
      ...rec.onToken(),
    },
  });
  return rec.decision();
}
