import { Injectable } from '@nestjs/common';
import { Query, QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import {
  countTasks,
  getTask,
  listTasks,
  readTogether,
  type TaskCounts,
  type TaskDetails,
  type TaskFilter,
  type TaskRow,
} from '@lifeline/read-models';
import { AsOfPool, parseAsOf } from '@lifeline/audit';
import { EngineRuntime } from '@lifeline/engine';
import { hasOverview, type Caller } from '../auth/jwt';
import { Forbidden, NotFound, RequestInvalid } from '../http/api-errors';
import { AS_OF } from '../http/openapi';
import { ReadSide } from '../http/read-side';

/** Task ids are `<instanceId>.<activityId>.<visit>`: the instance is known without a lookup. */
const TASK_ID = /^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\.([A-Za-z_][A-Za-z0-9_]*)\.(\d{1,9})$/;
/**
 * The one answer for a task that does not exist and for one the caller may not see: task ids can be
 * computed from an envelope id, so a different answer would tell an outsider which tasks exist.
 */
export const noSuchTask = () => new NotFound('TASK.NOT_FOUND', 'No such task');
export const instanceOfTask = (taskId: string): string => {
  const match = TASK_ID.exec(taskId);
  if (!match) throw noSuchTask();
  return match[1];
};

export const mayView = (task: Pick<TaskDetails, 'assignee' | 'role'>, caller: Caller): boolean =>
  caller.admin ||
  task.assignee === caller.id ||
  (task.assignee === null && task.role !== null && caller.roles.includes(task.role));

export interface TaskList {
  position: number;
  counts: TaskCounts;
  items: TaskRow[];
}

/** The caller's task list; with `asOf`, every task as it was then (an audit view: admin or auditor). */
export class TaskListQuery extends Query<TaskList> {
  constructor(
    readonly filter: TaskFilter,
    readonly caller: Caller,
    readonly minPosition?: string,
    readonly asOf?: string,
  ) {
    super();
  }
}

/** A task the caller may see, with its record as last recorded. */
export class TaskQuery extends Query<TaskDetails & { record: Record<string, unknown> }> {
  constructor(
    readonly taskId: string,
    readonly caller: Caller,
    readonly minPosition?: string,
  ) {
    super();
  }
}

@Injectable()
@QueryHandler(TaskListQuery)
export class TaskListHandler implements IQueryHandler<TaskListQuery, TaskList> {
  constructor(
    private readonly read: ReadSide,
    private readonly engine: EngineRuntime,
    private readonly asOf: AsOfPool,
  ) {}

  async execute({ filter, caller, minPosition, asOf }: TaskListQuery): Promise<TaskList> {
    if (asOf !== undefined) return this.listAsOf(asOf, filter, caller);
    const { position } = await this.read.atLeast(minPosition, ['task-list']);
    const viewer = { user: caller.id, roles: caller.roles, admin: caller.admin };
    const { limit: _limit, offset: _offset, status: _status, ...filters } = filter;
    const db = this.read.db;
    const now = this.engine.clock.nowIso();
    // The counts describe the same list as the items, one count per status, from the same snapshot.
    return readTogether(db, () => {
      const items = listTasks(db, viewer, filter, now);
      return { position, counts: countTasks(db, viewer, filters, now), items };
    });
  }

  /** Every task as it was then: the same queries over read models rebuilt from the log, on a worker thread. */
  private async listAsOf(asOf: string, filter: TaskFilter, caller: Caller): Promise<TaskList> {
    if (!AS_OF.test(asOf)) {
      throw new RequestInvalid(
        'AUDIT.INVALID_AS_OF',
        'asOf must be a global position (integer) or an ISO-8601 instant with a zone',
      );
    }
    // It replays the whole log: an audit view of every task, not a user's own list.
    if (!hasOverview(caller)) throw new Forbidden('The task list as of a past point needs the admin or auditor role');
    const viewer = { user: caller.id, roles: caller.roles, admin: caller.admin, everyone: true };
    const { position, counts, items } = await this.asOf.tasks(parseAsOf(asOf), viewer, filter);
    return { position, counts, items };
  }
}

@Injectable()
@QueryHandler(TaskQuery)
export class TaskHandler implements IQueryHandler<TaskQuery> {
  constructor(
    private readonly read: ReadSide,
    private readonly engine: EngineRuntime,
  ) {}

  async execute({ taskId, caller, minPosition }: TaskQuery) {
    instanceOfTask(taskId);
    await this.read.atLeast(minPosition, ['task-list']);
    const task = getTask(this.read.db, taskId, this.engine.clock.nowIso());
    if (!task || !mayView(task, caller)) throw noSuchTask();
    const record = task.entity ? await this.engine.latestRecord(task.entity) : {};
    return { ...task, record };
  }
}
