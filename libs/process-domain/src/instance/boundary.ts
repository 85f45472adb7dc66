import { addDuration } from '../definition/duration';
import type { InstanceEvent } from '../events';
import type { Decision } from '../decider';
import type { FireBoundaryTimer } from './commands';
import {
  boundariesOf,
  conditionHolds,
  continueFrom,
  interrupt,
  openEntry,
  Recorder,
  runFrom,
  type FlowContext,
  type WithBoundary,
} from './flow';
import type { InstanceState, LiveInstance } from './state';

/**
 * Boundary events on human tasks and waits (README, "Boundary events"): timers that interrupt (an escalation)
 * or do not (a reminder, a reassignment, once or repeating), and record conditions that interrupt. Entering
 * the activity arms them (`BoundaryEventsArmed`: the reactions keep its timers and watch the record); leaving
 * it disarms them; an interrupting one cancels the task (or leaves the wait) and moves the line to its `next`.
 */

/**
 * The record changed: each line resting at a task or wait with record conditions checks them. Returns the
 * lines that moved; `runFrom` has already run each to its next rest.
 */
export function checkBoundaryConditions(rec: Recorder, ctx: FlowContext, entityEventId?: string): void {
  const state = rec.live();
  for (const token of Object.keys(state.tokens).sort()) {
    const now = rec.live();
    if (now.status !== 'running') return;
    const line = now.tokens[token];
    if (!line || line.forked !== undefined) continue;
    const activity = ctx.definition.activities[line.activityId];
    const completeWhen = activity?.type === 'human' ? activity.completeWhen : undefined;
    if (!boundariesOf(activity).some((b) => 'when' in b) && completeWhen === undefined) continue;
    if (!openEntry(now, line.activityId, line.visit)) continue;
    if (Object.values(now.incidents).some((incident) => incident.token === token)) continue;
    rec.token = token;
    const next = conditionHolds(rec, line.activityId, activity as WithBoundary, line.visit, ctx, entityEventId);
    if (next !== undefined) continueFrom(rec, line.activityId, line.visit, next, ctx);
  }
}

/** A boundary timer is due: escalate (interrupting), or reassign or remind (and plan the next when it repeats). */
export function fireBoundaryTimer(
  state: LiveInstance,
  command: FireBoundaryTimer,
  ctx: FlowContext,
): Decision<InstanceState, InstanceEvent> {
  const unchanged = { events: [], state };
  if (state.status !== 'running') return unchanged;
  const activity = ctx.definition.activities[command.activityId];
  const b = boundariesOf(activity)[command.index];
  if (!b || !('after' in b)) return unchanged;
  const open = openEntry(state, command.activityId, command.visit);
  if (!open) return unchanged; // a stale timer: the task was done or the wait left first
  if (Date.parse(command.dueAt) > Date.parse(ctx.now)) return unchanged; // not due yet
  const fired = state.boundaryFired?.[`${command.activityId}.${command.visit}.${command.index}`];
  if (fired !== undefined && Date.parse(fired) >= Date.parse(command.dueAt)) return unchanged; // fired already
  const rec = new Recorder(state, open.token);
  if ('next' in b) {
    const next = interrupt(rec, command.activityId, command.visit, command.index, b.next, {
      kind: 'timer',
      dueAt: command.dueAt,
    });
    runFrom(rec, next, ctx);
    return rec.decision();
  }
  // A repeat is due `every` after the one that fired; after downtime, the missed ones fire once, now.
  let nextDueAt: string | undefined;
  if ('every' in b && b.every !== undefined) {
    nextDueAt = addDuration(command.dueAt, b.every);
    if (Date.parse(nextDueAt) <= Date.parse(ctx.now)) nextDueAt = addDuration(ctx.now, b.every);
  }
  const reassign = 'reassign' in b ? b.reassign : undefined;
  rec.record({
    type: 'BoundaryTriggered',
    data: {
      activityId: command.activityId,
      visit: command.visit,
      index: command.index,
      kind: 'timer',
      interrupting: false,
      ...(reassign !== undefined ? { reassign: { ...reassign } } : { remind: true }),
      dueAt: command.dueAt,
      ...(nextDueAt !== undefined ? { nextDueAt } : {}),
      ...rec.onToken(),
    },
  });
  if (reassign !== undefined && open.taskId !== undefined) {
    const to = 'user' in reassign ? { user: reassign.user } : { role: reassign.role };
    const already = 'user' in to ? open.user === to.user : open.user === undefined && open.role === to.role;
    if (!already) {
      rec.record({
        type: 'TaskReassigned',
        data: {
          taskId: open.taskId,
          from: { ...(open.user ? { user: open.user } : {}), ...(open.role ? { role: open.role } : {}) },
          to,
        },
      });
    }
  }
  return rec.decision();
}
