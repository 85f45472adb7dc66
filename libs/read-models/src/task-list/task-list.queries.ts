import type { z } from 'zod';
import type { TASK_ROW, TASK_DETAILS } from '../results';
import type { FormField, Question, EntityRef } from '@lifeline/process-domain';
import { parseJson } from '../events';
import type { Sql } from '../read-model-db';
import { cachedStatement } from '../statement-cache';
import type { StoredTaskStatus } from './task-list.projection';

export interface TaskViewer {
  user: string;
  roles: string[];
  admin: boolean;
  /** Sees every task, whoever it is for (an auditor's or admin's as-of view); assignee and role still filter. */
  everyone?: boolean;
}

/** What a row shows: the stored status, or `postponed` while an open task's start lies ahead. */
export type TaskStatus = 'new' | 'ongoing' | 'postponed' | 'completed' | 'cancelled';
export type TaskStatusFilter = 'new' | 'ongoing' | 'postponed' | 'open' | 'completed' | 'all';

export interface TaskFilter {
  /** Default `open`: new and ongoing tasks whose start has come. */
  status?: TaskStatusFilter;
  role?: string;
  assignee?: string;
  definitionKey?: string;
  entityType?: string;
  entityId?: string;
  /** Case-insensitive substring of the title or the record's id. */
  search?: string;
  /** `overdue`: due before now; `today`: due before the end of now's UTC day; `week`: within 7 days of now. */
  due?: 'overdue' | 'today' | 'week';
  limit?: number;
  offset?: number;
}

export type TaskRow = z.infer<typeof TASK_ROW>;

export type TaskDetails = z.infer<typeof TASK_DETAILS>;

export type TaskCounts = Record<TaskStatus, number> & { open: number; overdue: number };

export const DEFAULT_TASK_PAGE = 50;
export const MAX_TASK_PAGE = 500;

interface TaskRecord {
  seq: number;
  id: string;
  instance_id: string;
  definition_key: string | null;
  activity_id: string;
  title: string;
  instructions: string | null;
  hint: string | null;
  status: StoredTaskStatus;
  open: number;
  assignee: string | null;
  role: string | null;
  entity_type: string | null;
  entity_id: string | null;
  created_at: string;
  start_at: string;
  due_at: string | null;
  completed_at: string | null;
  completed_by: string | null;
  result: string | null;
  results: string | null;
  form: string | null;
  question: string | null;
  fields: string | null;
  answers: string | null;
  position: number;
}

const ROW_COLUMNS =
  'seq, id, instance_id, definition_key, activity_id, title, status, open, assignee, role, entity_type, entity_id, created_at, start_at, due_at';

export type TaskQueryParams = Record<string, string | number>;

/**
 * Who sees what: the viewer's own tasks, and the unassigned tasks of the viewer's roles. An admin
 * who asks for an assignee or a role sees that assignee's or role's tasks, whoever they are; an
 * `everyone` viewer sees every task.
 * Each branch matches one index prefix, so a page reads about `limit` index entries per branch.
 */
function visibleBranches(viewer: TaskViewer, filter: TaskFilter, params: TaskQueryParams): string[] {
  if (viewer.everyone || (viewer.admin && (filter.assignee !== undefined || filter.role !== undefined))) {
    const where: string[] = [];
    if (filter.assignee !== undefined) {
      params.assignee = filter.assignee;
      where.push('assignee = @assignee');
    }
    if (filter.role !== undefined) {
      params.role = filter.role;
      where.push('role = @role');
    }
    return [where.length > 0 ? where.join(' AND ') : '1 = 1'];
  }
  const branches: string[] = [];
  if (filter.assignee === undefined || filter.assignee === viewer.user) {
    params.user = viewer.user;
    if (filter.role !== undefined) {
      params.role = filter.role;
      branches.push('assignee = @user AND role = @role');
    } else {
      branches.push('assignee = @user');
    }
  }
  if (filter.assignee === undefined) {
    const roles = filter.role !== undefined ? viewer.roles.filter((r) => r === filter.role) : viewer.roles;
    [...new Set(roles)].forEach((role, i) => {
      params[`role${i}`] = role;
      branches.push(`assignee IS NULL AND role = @role${i}`);
    });
  }
  return branches;
}

/**
 * A filter on one record reads that record's few tasks through their index. Without statistics the
 * planner prefers the visibility index that also gives the order (all of a role's tasks), which made
 * a record's task list cost as much as the whole list.
 */
const byRecord = (filter: TaskFilter): string => (filter.entityId !== undefined ? ' INDEXED BY tasks_by_record' : '');

function startOfUtcDay(now: string, plusDays: number): string {
  const day = new Date(now);
  day.setUTCHours(0, 0, 0, 0);
  day.setUTCDate(day.getUTCDate() + plusDays);
  return day.toISOString();
}

/** The conditions every branch shares: status (postponed derived from now), and the filters. */
function sharedConditions(filter: TaskFilter, now: string, params: TaskQueryParams): string[] {
  return [...statusConditions(filter, now, params), ...filterConditions(filter, now, params)];
}

function statusConditions(filter: TaskFilter, now: string, params: TaskQueryParams): string[] {
  const where: string[] = [];
  params.now = now;
  switch (filter.status ?? 'open') {
    case 'open':
      where.push('open = 1', 'start_at <= @now');
      break;
    case 'new':
      where.push('open = 1', "status = 'new'", 'start_at <= @now');
      break;
    case 'ongoing':
      where.push('open = 1', "status = 'ongoing'", 'start_at <= @now');
      break;
    case 'postponed':
      where.push('open = 1', 'start_at > @now');
      break;
    case 'completed':
      where.push('open = 0', "status = 'completed'");
      break;
    case 'all':
      break;
  }
  return where;
}

/** Every filter but the status: what the list and its per-status counts have in common. */
function filterConditions(filter: TaskFilter, now: string, params: TaskQueryParams): string[] {
  const where: string[] = [];
  params.now = now;
  if (filter.definitionKey !== undefined) {
    params.definitionKey = filter.definitionKey;
    where.push('definition_key = @definitionKey');
  }
  if (filter.entityType !== undefined) {
    params.entityType = filter.entityType;
    where.push('entity_type = @entityType');
  }
  if (filter.entityId !== undefined) {
    params.entityId = filter.entityId;
    where.push('entity_id = @entityId');
  }
  if (filter.search !== undefined && filter.search.trim() !== '') {
    params.search = `%${filter.search.trim().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    where.push("(title LIKE @search ESCAPE '\\' OR entity_id LIKE @search ESCAPE '\\')");
  }
  switch (filter.due) {
    case undefined:
      break;
    case 'overdue':
      where.push('due_at < @now');
      break;
    case 'today':
      params.dueBefore = startOfUtcDay(now, 1);
      where.push('due_at < @dueBefore');
      break;
    case 'week':
      params.dueBefore = new Date(Date.parse(now) + 7 * 24 * 3600 * 1000).toISOString();
      where.push('due_at < @dueBefore');
      break;
  }
  return where;
}

function toRow(record: TaskRecord, now: string): TaskRow {
  const open = record.open === 1;
  return {
    id: record.id,
    title: record.title,
    status: open && record.start_at > now ? 'postponed' : record.status,
    assignee: record.assignee,
    role: record.role,
    entity:
      record.entity_type !== null && record.entity_id !== null
        ? { type: record.entity_type, id: record.entity_id }
        : null,
    definitionKey: record.definition_key,
    instanceId: record.instance_id,
    activityId: record.activity_id,
    createdAt: record.created_at,
    startAt: record.start_at,
    dueAt: record.due_at,
    overdue: open && record.due_at !== null && record.due_at < now,
  };
}

/**
 * The SQL and parameters of one task-list page (exported so its query plan can be checked). With `page`, the text
 * has no LIMIT and the caller keeps rows offset to offset + limit of what it returns, in order.
 */
export function taskListQuery(
  viewer: TaskViewer,
  filter: TaskFilter,
  now: string,
): { text: string; params: TaskQueryParams; page?: { offset: number; limit: number } } | undefined {
  const params: TaskQueryParams = {};
  const branches = visibleBranches(viewer, filter, params);
  if (branches.length === 0) return undefined;
  const shared = sharedConditions(filter, now, params);
  const limit = Math.min(Math.max(Math.trunc(filter.limit ?? DEFAULT_TASK_PAGE), 1), MAX_TASK_PAGE);
  const offset = Math.max(Math.trunc(filter.offset ?? 0), 0);
  if (filter.entityId !== undefined) {
    // One record's few tasks: one read of its index, sorted without a LIMIT. A LIMIT makes SQLite sort into a
    // temporary b-tree, which cost a probe for one task 3 to 20 times the read itself (branches are disjoint: OR = UNION ALL).
    const visible = branches.length === 1 ? branches[0]! : `(${branches.map((b) => `(${b})`).join(' OR ')})`;
    const text = `SELECT ${ROW_COLUMNS} FROM tasks${byRecord(filter)} WHERE ${[visible, ...shared].join(' AND ')} ORDER BY created_at, seq`;
    return { text, params, page: { offset, limit } };
  }
  params.limit = limit;
  params.offset = offset;
  const select = (branch: string) =>
    `SELECT ${ROW_COLUMNS} FROM tasks WHERE ${[branch, ...shared].join(' AND ')} ORDER BY created_at, seq`;
  if (branches.length === 1) return { text: `${select(branches[0]!)} LIMIT @limit OFFSET @offset`, params };
  params.take = limit + offset;
  // Each branch reads at most offset + limit rows from its index; the merge sorts only those.
  const text =
    branches.map((b) => `SELECT * FROM (${select(b)} LIMIT @take)`).join(' UNION ALL ') +
    ' ORDER BY created_at, seq LIMIT @limit OFFSET @offset';
  return { text, params };
}

/** The viewer's task list page, oldest first. `now` is an ISO instant (postponed and overdue are relative to it). */
export function listTasks(db: Sql, viewer: TaskViewer, filter: TaskFilter, now: string): TaskRow[] {
  const query = taskListQuery(viewer, filter, now);
  if (!query) return [];
  const statement = cachedStatement(db, query.text);
  if (query.page === undefined) {
    return (statement.all(query.params) as TaskRecord[]).map((record) => toRow(record, now));
  }
  const { offset, limit } = query.page;
  const rows: TaskRow[] = [];
  let skipped = 0;
  for (const record of statement.iterate(query.params) as IterableIterator<TaskRecord>) {
    if (skipped < offset) {
      skipped += 1;
      continue;
    }
    rows.push(toRow(record, now));
    if (rows.length === limit) break;
  }
  return rows;
}

/** One task with everything the task form shows, or undefined. `now` derives postponed and overdue. */
export function getTask(db: Sql, id: string, now?: string): TaskDetails | undefined {
  const record = cachedStatement(db, 'SELECT * FROM tasks WHERE id = ?').get(id) as TaskRecord | undefined;
  if (!record) return undefined;
  const row = toRow(record, now ?? '');
  return {
    ...row,
    // Without a `now`, nothing is postponed or overdue: the stored status is shown.
    status: now === undefined ? record.status : row.status,
    overdue: now === undefined ? false : row.overdue,
    instructions: record.instructions,
    hint: record.hint,
    completedAt: record.completed_at,
    completedBy: record.completed_by,
    result: record.result,
    results: parseJson<string[]>(record.results) ?? null,
    form: parseJson<FormField[]>(record.form) ?? null,
    question: parseJson<Question>(record.question) ?? null,
    fields: parseJson<Record<string, unknown>>(record.fields) ?? null,
    answers: parseJson<string[]>(record.answers) ?? null,
    position: record.position,
  };
}

/** The SQL and parameters of the per-status counts (exported so its query plan can be checked). */
export function taskCountQuery(
  viewer: TaskViewer,
  filter: Omit<TaskFilter, 'status' | 'limit' | 'offset'>,
  now: string,
): { text: string; params: TaskQueryParams } | undefined {
  const params: TaskQueryParams = {};
  const branches = visibleBranches(viewer, filter, params);
  if (branches.length === 0) return undefined;
  const shared = filterConditions(filter, now, params);
  const text = branches
    .map(
      (branch) => `SELECT
        CASE WHEN open = 1 AND start_at > @now THEN 'postponed' ELSE status END AS shown,
        count(*) AS n,
        sum(open = 1 AND due_at < @now) AS overdue
      FROM tasks${byRecord(filter)} WHERE ${[branch, ...shared].join(' AND ')} GROUP BY shown`,
    )
    .join(' UNION ALL ');
  return { text, params };
}

/**
 * How many of the viewer's visible tasks are in each status (postponed and overdue derived from now),
 * under the same filters as the list (role, assignee, definition, record, search, due); the status
 * filter does not apply, since the counts are per status.
 */
export function countTasks(
  db: Sql,
  viewer: TaskViewer,
  filter: Omit<TaskFilter, 'status' | 'limit' | 'offset'>,
  now: string,
): TaskCounts {
  const counts: TaskCounts = { new: 0, ongoing: 0, postponed: 0, completed: 0, cancelled: 0, open: 0, overdue: 0 };
  const query = taskCountQuery(viewer, filter, now);
  if (!query) return counts;
  const rows = cachedStatement(db, query.text).all(query.params) as {
    shown: TaskStatus;
    n: number;
    overdue: number | null;
  }[];
  for (const row of rows) {
    counts[row.shown] += row.n;
    counts.overdue += row.overdue ?? 0;
  }
  counts.open = counts.new + counts.ongoing;
  return counts;
}

/** The tasks a viewer may see or has handled: theirs, their roles' unassigned ones, those they completed. */
export const VIEWER_TASK_CONDITION =
  '(t.assignee = @user OR t.completed_by = @user OR (t.assignee IS NULL AND t.role IN (SELECT value FROM json_each(@roles))))';

/** Need to know: does the viewer have (or had) a task in this instance? */
export function viewerHasTaskInInstance(
  db: Sql,
  viewer: Pick<TaskViewer, 'user' | 'roles'>,
  instanceId: string,
): boolean {
  return (
    cachedStatement(
      db,
      `SELECT 1 FROM tasks t WHERE t.instance_id = @instanceId AND ${VIEWER_TASK_CONDITION} LIMIT 1`,
    ).get({
      instanceId,
      user: viewer.user,
      roles: JSON.stringify(viewer.roles),
    }) !== undefined
  );
}

/** Need to know: does the viewer have (or had) a task about this record? */
export function viewerHasTaskForRecord(
  db: Sql,
  viewer: Pick<TaskViewer, 'user' | 'roles'>,
  entityType: string,
  entityId: string,
): boolean {
  return (
    cachedStatement(
      db,
      `SELECT 1 FROM tasks t WHERE t.entity_type = @entityType AND t.entity_id = @entityId AND ${VIEWER_TASK_CONDITION} LIMIT 1`,
    ).get({ entityType, entityId, user: viewer.user, roles: JSON.stringify(viewer.roles) }) !== undefined
  );
}

/** An open task whose due time came (what an overdue notice or an escalation needs). */
export interface FallingDueTask {
  id: string;
  title: string;
  assignee: string | null;
  role: string | null;
  dueAt: string;
  instanceId: string;
  entity: EntityRef | null;
}

/**
 * Open tasks (only assigned ones with `assignedOnly`) due after the cursor (by due time, then id)
 * and at or before `upTo`, oldest first: each look at the task list continues where the last stopped.
 */
export function tasksFallingDue(
  db: Sql,
  after: { dueAt: string; id: string },
  upTo: string,
  limit: number,
  assignedOnly: boolean,
): FallingDueTask[] {
  const rows = cachedStatement(
    db,
    `SELECT id, title, assignee, role, due_at, instance_id, entity_type, entity_id FROM tasks INDEXED BY tasks_open_due
      WHERE open = 1 AND due_at IS NOT NULL AND (? = 0 OR assignee IS NOT NULL)
        AND (due_at > ? OR (due_at = ? AND id > ?)) AND due_at <= ?
      ORDER BY due_at, id LIMIT ?`,
  ).all(assignedOnly ? 1 : 0, after.dueAt, after.dueAt, after.id, upTo, limit) as {
    id: string;
    title: string;
    assignee: string | null;
    role: string | null;
    due_at: string;
    instance_id: string;
    entity_type: string | null;
    entity_id: string | null;
  }[];
  return rows.map((r) => ({
    id: r.id,
    title: r.title,
    assignee: r.assignee,
    role: r.role,
    dueAt: r.due_at,
    instanceId: r.instance_id,
    entity: r.entity_type !== null && r.entity_id !== null ? { type: r.entity_type, id: r.entity_id } : null,
  }));
}
