import {
  countTasks,
  getInstance,
  listTasks,
  type GlobalLog,
  type InstanceRow,
  type TaskCounts,
  type TaskFilter,
  type TaskRow,
  type TaskViewer,
} from '@lifeline/read-models';
import { readModelsAsOf, type AsOf, type AsOfOptions } from './as-of';

/**
 * What an as-of view is asked. The view is an in-memory database inside whoever rebuilt it (an
 * as-of worker thread), so the question travels to it and only the answer comes back.
 */
export type AsOfQuestion =
  { kind: 'tasks'; viewer: TaskViewer; filter: TaskFilter } | { kind: 'instance'; instanceId: string };

/** The task list as it was: the same body as `GET /tasks`. */
export interface TasksAsOf {
  kind: 'tasks';
  position: number;
  counts: TaskCounts;
  items: TaskRow[];
}

/** One instance as it was (null: it did not exist yet), with the point it was rebuilt to. */
export interface InstanceAsOf {
  kind: 'instance';
  position: number;
  at: string;
  instance: InstanceRow | null;
}

export type AsOfAnswer = TasksAsOf | InstanceAsOf;

/** Rebuilds the read models up to `asOf`, answers the question from them, and drops them. */
export async function answerAsOf(
  log: GlobalLog,
  asOf: AsOf,
  question: AsOfQuestion,
  options: AsOfOptions = {},
): Promise<AsOfAnswer> {
  const view = await readModelsAsOf(log, asOf, options);
  try {
    switch (question.kind) {
      case 'tasks': {
        // As GET /tasks: the counts describe the same list as the items, one count per status.
        const { limit: _limit, offset: _offset, status: _status, ...filters } = question.filter;
        return {
          kind: 'tasks',
          position: view.position,
          counts: countTasks(view.sql, question.viewer, filters, view.now),
          items: listTasks(view.sql, question.viewer, question.filter, view.now),
        };
      }
      case 'instance':
        return {
          kind: 'instance',
          position: view.position,
          at: view.now,
          instance: getInstance(view.sql, question.instanceId) ?? null,
        };
    }
  } finally {
    view.close();
  }
}
