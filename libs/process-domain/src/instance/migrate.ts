import type { Activity, Next, ProcessDefinition } from '../definition/definition';
import type { InstanceEvent, InstanceMigrated } from '../events';
import type { Decision } from '../decider';
import type { MigrateInstance } from './commands';
import type { Actor } from './commands';
import type { FlowContext } from './flow';
import {
  DefinitionVersionMismatch,
  InstanceNotRunning,
  MigrationAlreadyOnVersion,
  MigrationNotPossible,
  type MigrationReason,
} from './instance-errors';
import { migrated, type InstanceData, type InstanceState, type LiveInstance, type TokenState } from './state';

/**
 * Migrating a running instance to another version of its definition (README, "Migrating running instances").
 * Decided against both versions: `ctx.definition` is the target, `ctx.fromDefinition` the one the instance runs.
 *
 * What is checked, per resting position (every line, open task, open job, open incident, running child):
 * - it has a target: its `mapping` entry, or the same id when the target has an activity of that id;
 * - the target activity exists and has the same type (human → human, wait → wait, service → service, ...);
 * - an activity with boundary events lands on one with the same boundary events (armed timers keep their index);
 * - a human activity lands on one with the same results (its open task was created with them);
 * - a line inside a fork (a branch) reaches, from its target, exactly the joins its current activity reaches
 *   (mapped): the join that waits for it keeps its meaning.
 * All or nothing: one InstanceMigrated, or a MigrationNotPossible listing every reason.
 */
export interface MigrationContext extends FlowContext {
  actor: Actor;
  /** The version the instance runs now. */
  fromDefinition?: ProcessDefinition;
}

export function decideMigration(
  state: LiveInstance,
  command: MigrateInstance,
  ctx: MigrationContext,
): Decision<InstanceState, InstanceEvent> {
  if (state.definitionKey !== ctx.definition.key || command.toVersion !== ctx.definitionVersion) {
    throw new DefinitionVersionMismatch('The command names another definition version than the context');
  }
  if (state.definitionVersion === command.toVersion) {
    throw new MigrationAlreadyOnVersion(`Instance already runs ${state.definitionKey} v${command.toVersion}`);
  }
  if (command.fromVersion !== undefined && command.fromVersion !== state.definitionVersion) {
    throw new DefinitionVersionMismatch(
      `Instance runs ${state.definitionKey} v${state.definitionVersion}, not v${command.fromVersion}`,
    );
  }
  if (state.status !== 'running' && state.status !== 'suspended') {
    throw new InstanceNotRunning(`Instance is ${state.status}`);
  }
  const from = ctx.fromDefinition;
  if (!from || from.key !== state.definitionKey) {
    throw new DefinitionVersionMismatch(`The current version v${state.definitionVersion} was not given`);
  }
  const { used, reasons } = planMigration(state, from, ctx.definition, command.mapping);
  if (reasons.length > 0) {
    throw new MigrationNotPossible(
      `Instance cannot move to v${command.toVersion}: ${reasons.map((r) => `${r.activityId}: ${r.message}`).join('; ')}`,
      reasons,
    );
  }
  const event: InstanceMigrated = {
    type: 'InstanceMigrated',
    data: {
      fromVersion: state.definitionVersion,
      toVersion: command.toVersion,
      mapping: used,
      by: ctx.actor.id,
      entity: state.entity,
    },
  };
  return { events: [event], state: migrated(state, event.data) };
}

/** The renames a migration uses (`from → to`, renames only) and every reason it cannot happen. */
export function planMigration(
  state: InstanceData,
  from: ProcessDefinition,
  to: ProcessDefinition,
  mapping: Readonly<Record<string, string>>,
): { used: Record<string, string>; reasons: MigrationReason[] } {
  const reasons: MigrationReason[] = [];
  const used: Record<string, string> = {};
  const seen = new Set<string>();
  const targetOf = (activityId: string): string | undefined =>
    Object.prototype.hasOwnProperty.call(mapping, activityId)
      ? mapping[activityId]
      : to.activities[activityId] !== undefined
        ? activityId
        : undefined;

  // A mapping that names an activity neither version has is a mistake even when no instance rests there.
  for (const [source, target] of Object.entries(mapping).sort(([a], [b]) => (a < b ? -1 : 1))) {
    if (from.activities[source] === undefined) {
      reasons.push({
        activityId: source,
        problem: 'UNKNOWN_ACTIVITY',
        message: `${source} is not an activity of v${state.definitionVersion}`,
      });
    } else if (to.activities[target] === undefined) {
      reasons.push({
        activityId: source,
        to: target,
        problem: 'UNKNOWN_ACTIVITY',
        message: `${target} is not an activity of the target version`,
      });
    }
  }
  if (reasons.length > 0) return { used, reasons };

  const check = (activityId: string, type: string | undefined): void => {
    if (seen.has(activityId)) return;
    seen.add(activityId);
    const source = from.activities[activityId];
    const target = targetOf(activityId);
    const landing = target !== undefined ? to.activities[target] : undefined;
    if (target === undefined || landing === undefined) {
      reasons.push({ activityId, problem: 'NO_TARGET', message: 'no mapping and no activity of that id and type' });
      return;
    }
    const sourceType = source?.type ?? type;
    if (landing.type !== sourceType) {
      reasons.push({
        activityId,
        to: target,
        problem: 'TYPE_MISMATCH',
        message: `a ${sourceType ?? 'unknown'} activity cannot land on ${target} (${landing.type})`,
      });
      return;
    }
    if (JSON.stringify(boundariesOf(source)) !== JSON.stringify(boundariesOf(landing))) {
      reasons.push({
        activityId,
        to: target,
        problem: 'BOUNDARY_MISMATCH',
        message: `${target} has other boundary events than ${activityId}`,
      });
      return;
    }
    if (
      source?.type === 'human' &&
      landing.type === 'human' &&
      JSON.stringify(resultsOf(source.results)) !== JSON.stringify(resultsOf(landing.results))
    ) {
      reasons.push({
        activityId,
        to: target,
        problem: 'RESULTS_MISMATCH',
        message: `${target} takes other results than ${activityId} (its open task keeps its own)`,
      });
      return;
    }
    if (target !== activityId) used[activityId] = target;
  };

  for (const token of Object.keys(state.tokens).sort()) {
    const line = state.tokens[token]!;
    check(line.activityId, line.activityType);
  }
  for (const task of Object.values(state.tasks)) if (task.status === 'open') check(task.activityId, 'human');
  for (const job of Object.values(state.jobs)) if (job.status === 'open') check(job.activityId, 'service');
  for (const incident of Object.values(state.incidents)) check(incident.activityId, undefined);
  for (const child of Object.values(state.children ?? {}))
    if (child.status === 'running') check(child.activityId, 'subprocess');
  if (reasons.length > 0) return { used, reasons };

  // A branch must still reach the join that waits for it (mapped), and no other one.
  for (const token of Object.keys(state.tokens).sort()) {
    const line: TokenState = state.tokens[token]!;
    if (line.forkId === undefined) continue;
    const target = targetOf(line.activityId)!;
    const expected = [...joinsReached(from, line.activityId)].map((j) => targetOf(j) ?? `?${j}`).sort();
    const actual = [...joinsReached(to, target)].sort();
    if (JSON.stringify(expected) !== JSON.stringify(actual)) {
      reasons.push({
        activityId: line.activityId,
        to: target,
        problem: 'JOIN_CHANGED',
        message: `its branch reaches join(s) [${actual.join(', ')}] from ${target}, not [${expected.join(', ')}]`,
      });
    }
  }
  return { used, reasons };
}

/** A human activity's results, as its task was created with them: completing needs one of these. */
function resultsOf(results: string[] | undefined): string[] {
  return [...(results ?? [])].sort();
}

function boundariesOf(activity: Activity | undefined): unknown {
  return activity && 'boundary' in activity ? (activity.boundary ?? []) : [];
}

const asList = (next: Next): string[] => (typeof next === 'string' ? [next] : next);

/** Where the flow may go from an activity (every path: results, branches, timeouts, errors, boundaries). */
function successorsOf(activity: Activity): string[] {
  const out: string[] = [];
  const boundary = 'boundary' in activity ? (activity.boundary ?? []) : [];
  for (const b of boundary) if ('next' in b) out.push(b.next);
  switch (activity.type) {
    case 'human':
      if (typeof activity.next === 'string' || Array.isArray(activity.next)) out.push(...asList(activity.next));
      else out.push(...Object.values(activity.next));
      break;
    case 'wait':
      out.push(...asList(activity.next));
      if (activity.onTimeout !== undefined) out.push(activity.onTimeout);
      break;
    case 'service':
      out.push(...asList(activity.next), ...Object.values(activity.errors ?? {}));
      break;
    case 'decision':
    case 'inclusive':
      out.push(...activity.branches.map((b) => b.next), activity.otherwise);
      break;
    case 'parallel':
      out.push(...activity.branches);
      break;
    case 'end':
      break;
    default:
      out.push(...asList(activity.next));
  }
  return out;
}

/** The joins a line at `start` may reach before passing any join (itself, when it is one). */
function joinsReached(definition: ProcessDefinition, start: string): Set<string> {
  const joins = new Set<string>();
  const visited = new Set<string>();
  const queue = [start];
  while (queue.length > 0) {
    const id = queue.shift()!;
    if (visited.has(id)) continue;
    visited.add(id);
    const activity = definition.activities[id];
    if (!activity) continue;
    if (activity.type === 'join') {
      joins.add(id);
      continue;
    }
    queue.push(...successorsOf(activity));
  }
  return joins;
}
