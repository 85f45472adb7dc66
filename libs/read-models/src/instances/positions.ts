import type { z } from 'zod';
import type { LINE_POSITION } from '../results';
import { type LifelineEvent, MAIN_TOKEN } from '@lifeline/process-domain';

export type Position = z.infer<typeof LINE_POSITION>;

/**
 * One line as the projection keeps it: a position, plus what the instance's `evolve` keeps to move it
 * (the fork that made it; `forked`: it rests at a fork until that fork's branches join, not shown).
 */
export interface Line extends Position {
  forkId?: string;
  forked?: string;
  /**
   * The line rests there without having entered the activity (a fork's new branch, a joined line, a conditional
   * start, a wait first seen): its time there is no stay on the heatmap.
   */
  placeholder?: true;
}

/** The lines a user sees: every line but those resting at a fork while its branches run. */
export const visiblePositions = (lines: readonly Line[]): Position[] =>
  lines
    .filter((line) => line.forked === undefined)
    .map(({ token, activityId, activityType, since }) => ({ token, activityId, activityType, since }));

/** `lines` with `line` in place of the one of its token (kept where it was), or added last: evolve's key order. */
function put(lines: readonly Line[], line: Line): Line[] {
  const index = lines.findIndex((l) => l.token === line.token);
  if (index < 0) return [...lines, line];
  const next = lines.slice();
  next[index] = line;
  return next;
}

const withFork = (line: Line, forkId: string | undefined): Line => (forkId !== undefined ? { ...line, forkId } : line);

/**
 * The lines after `event`, moved exactly as the instance's `evolve` (libs/process-domain instance/state.ts)
 * moves its tokens; undefined when the event moves none. `at` is when the event was recorded.
 */
export function moveLines(lines: readonly Line[], event: LifelineEvent, at: string): Line[] | undefined {
  switch (event.type) {
    case 'ActivityEntered': {
      const { activityId, activityType } = event.data;
      const token = event.data.token ?? MAIN_TOKEN;
      const current = lines.find((l) => l.token === token);
      // An end ends its line (the instance completes with its last one: InstanceCompleted follows).
      if (activityType === 'end') return current ? lines.filter((l) => l !== current) : undefined;
      return put(lines, withFork({ token, activityId, activityType, since: at }, current?.forkId));
    }
    case 'BranchesForked': {
      const d = event.data;
      const parentId = d.token ?? MAIN_TOKEN;
      const parent = lines.find((l) => l.token === parentId);
      const activityType = parent?.activityType ?? 'parallel';
      let next = put(lines, {
        ...withFork({ token: parentId, activityId: d.activityId, activityType, since: at }, parent?.forkId),
        forked: d.forkId,
      });
      for (const branch of d.branches) {
        next = put(next, {
          token: branch.token,
          activityId: d.activityId,
          activityType,
          since: at,
          forkId: d.forkId,
          placeholder: true,
        });
      }
      return next;
    }
    case 'BranchesJoined':
    case 'BranchesEnded': {
      const d = event.data;
      const parentId = d.token ?? MAIN_TOKEN;
      const parent = lines.find((l) => l.token === parentId);
      // A fork's branches are the lines it made: those still running carry its id.
      const next = lines.filter((l) => l.forkId !== d.forkId);
      if (event.type === 'BranchesEnded') return next.filter((l) => l.token !== parentId);
      return put(
        next,
        withFork(
          { token: parentId, activityId: event.data.activityId, activityType: 'join', since: at, placeholder: true },
          parent?.forkId,
        ),
      );
    }
    case 'ConditionalBranchStarted': {
      // A conditional start's new line, at its first activity until it enters it.
      const { token, next: activityId } = event.data;
      return put(lines, { token, activityId, activityType: 'start', since: at, placeholder: true });
    }
    case 'RecordDeleted':
      // `next`: every line is left (the flow goes on from `next` with the events that follow); `terminate`: the instance ends.
      return event.data.policy === 'next' && lines.length > 0 ? [] : undefined;
    case 'WaitStarted': {
      // A wait keeps its line where it is; a line not seen before (none should be) rests at the wait.
      const token = event.data.token ?? MAIN_TOKEN;
      if (lines.some((l) => l.token === token)) return undefined;
      return [
        ...lines,
        { token, activityId: event.data.activityId, activityType: 'wait', since: at, placeholder: true },
      ];
    }
    case 'InstanceMigrated': {
      // The lines stay where they are, under the activities' ids in the new version.
      const { mapping } = event.data;
      if (!lines.some((l) => Object.hasOwn(mapping, l.activityId))) return undefined;
      return lines.map((l) =>
        Object.hasOwn(mapping, l.activityId) ? { ...l, activityId: mapping[l.activityId]! } : l,
      );
    }
    case 'InstanceCompleted':
    case 'InstanceTerminated':
      return lines.length > 0 ? [] : undefined;
    default:
      return undefined;
  }
}
