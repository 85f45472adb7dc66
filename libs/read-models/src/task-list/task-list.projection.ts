import type { LifelineEvent } from '@lifeline/process-domain';
import type { StoredEvent } from '@lifeline/event-store';
import { asLifelineEvent, instanceIdOf, json } from '../events';
import { boundCache, preparedFor, type Projection, type Sql } from '../read-model-db';

/** Stored task statuses; `postponed` is not one of them: it is `start_at > now` at query time. */
export type StoredTaskStatus = 'new' | 'ongoing' | 'completed' | 'cancelled';

export const TASK_LIST_QUERY_INDEXES = [
  // A user's page: equality on assignee and open, already ordered by created_at, seq.
  'CREATE INDEX IF NOT EXISTS tasks_by_assignee ON tasks (assignee, open, created_at)',
  // A role's unassigned page: role = ? AND assignee IS NULL AND open = 1, ordered.
  'CREATE INDEX IF NOT EXISTS tasks_by_role ON tasks (role, assignee, open, created_at)',
  // Open tasks falling due (the mail notifier's overdue and escalation looks); only rows with a due time.
  'CREATE INDEX IF NOT EXISTS tasks_open_due ON tasks (due_at, id) WHERE open = 1 AND due_at IS NOT NULL',
];

export const TASK_LIST_SCHEMA = [
  // `seq` is the rowid: creation order, and the tie-break the indexes below already carry.
  `CREATE TABLE IF NOT EXISTS tasks (
    seq INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    instance_id TEXT NOT NULL,
    definition_key TEXT,
    activity_id TEXT NOT NULL,
    title TEXT NOT NULL,
    instructions TEXT,
    hint TEXT,
    status TEXT NOT NULL,
    open INTEGER NOT NULL,
    assignee TEXT,
    role TEXT,
    entity_type TEXT,
    entity_id TEXT,
    created_at TEXT NOT NULL,
    start_at TEXT NOT NULL,
    due_at TEXT,
    completed_at TEXT,
    completed_by TEXT,
    result TEXT,
    results TEXT,
    form TEXT,
    question TEXT,
    fields TEXT,
    answers TEXT,
    position INTEGER NOT NULL
  )`,
  'CREATE INDEX IF NOT EXISTS tasks_by_instance ON tasks (instance_id, open)',
  // A record's tasks (its page lists them; who may read its timeline: those with a task about it). The id leads,
  // so a filter on the record id alone uses it too.
  'DROP INDEX IF EXISTS tasks_by_entity',
  'CREATE INDEX IF NOT EXISTS tasks_by_record ON tasks (entity_id, entity_type)',
  // What a task needs from its instance's start (definition and record), kept by this projection alone.
  `CREATE TABLE IF NOT EXISTS task_list_instances (
    instance_id TEXT PRIMARY KEY,
    definition_key TEXT NOT NULL,
    entity_type TEXT NOT NULL,
    entity_id TEXT NOT NULL
  ) WITHOUT ROWID`,
];

const statements = preparedFor((db: Sql) => ({
  instanceStarted: db.prepare(
    'INSERT OR REPLACE INTO task_list_instances (instance_id, definition_key, entity_type, entity_id) VALUES (?, ?, ?, ?)',
  ),
  instance: db.prepare('SELECT definition_key, entity_type, entity_id FROM task_list_instances WHERE instance_id = ?'),
  created: db.prepare(
    `INSERT OR IGNORE INTO tasks (id, instance_id, definition_key, activity_id, title, instructions, hint, status, open,
       assignee, role, entity_type, entity_id, created_at, start_at, due_at, results, form, question, position)
     VALUES (?, ?, ?, ?, ?, ?, ?, 'new', 1, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  ),
  claimed: db.prepare("UPDATE tasks SET status = 'ongoing', assignee = ?, position = ? WHERE id = ? AND open = 1"),
  claimedAndCompleted: db.prepare(
    `UPDATE tasks SET status = 'completed', open = 0, assignee = ?, completed_at = ?, completed_by = ?, result = ?,
       fields = ?, answers = ?, position = ? WHERE id = ? AND open = 1`,
  ),
  /**
   * A claim not yet written: completing an unclaimed task records TaskClaimed then TaskCompleted, and both are
   * written as one UPDATE (claiming never closes a task, so the pair applies exactly when the claim would).
   * Written before any other event of an instance, and at the batch's end.
   */
  claim: undefined as { taskId: string; user: string; position: number } | undefined,
  released: db.prepare(
    "UPDATE tasks SET status = 'new', assignee = NULL, role = COALESCE(?, role), position = ? WHERE id = ? AND open = 1",
  ),
  reassignedToUser: db.prepare(
    "UPDATE tasks SET status = 'ongoing', assignee = ?, role = COALESCE(?, role), position = ? WHERE id = ? AND open = 1",
  ),
  reassignedToRole: db.prepare(
    "UPDATE tasks SET status = 'new', assignee = NULL, role = ?, position = ? WHERE id = ? AND open = 1",
  ),
  postponed: db.prepare(
    'UPDATE tasks SET start_at = ?, due_at = COALESCE(?, due_at), position = ? WHERE id = ? AND open = 1',
  ),
  completed: db.prepare(
    `UPDATE tasks SET status = 'completed', open = 0, completed_at = ?, completed_by = ?, result = ?,
       fields = ?, answers = ?, position = ? WHERE id = ? AND open = 1`,
  ),
  /** A boundary event interrupted the task. */
  cancelled: db.prepare(
    "UPDATE tasks SET status = 'cancelled', open = 0, completed_at = ?, position = ? WHERE id = ? AND open = 1",
  ),
  openTasksOf: db.prepare('SELECT id, activity_id FROM tasks WHERE instance_id = ? AND open = 1'),
  activityMoved: db.prepare('UPDATE tasks SET activity_id = ?, position = ? WHERE id = ?'),
  instanceEnded: db.prepare(
    "UPDATE tasks SET status = 'cancelled', open = 0, completed_at = ?, position = ? WHERE instance_id = ? AND open = 1",
  ),
  /**
   * What task_list_instances says of each recent instance (rewritten only by a repeated InstanceStarted, which
   * updates it here too). Dropped when a batch is rolled back.
   */
  instances: new Map<string, InstanceRow>(),
}));

interface InstanceRow {
  definition_key: string;
  entity_type: string;
  entity_id: string;
}

type TaskCompleted = Extract<LifelineEvent, { type: 'TaskCompleted' }>;

/** What `completed` binds, in order; `claimedAndCompleted` binds the claiming user before it. */
const completion = (d: TaskCompleted['data'], at: string, position: number) =>
  [at, d.user, d.result ?? null, json(d.fields), json(d.answers), position, d.taskId] as const;

function writeClaim(s: ReturnType<typeof statements>): void {
  const { claim } = s;
  if (claim === undefined) return;
  s.claim = undefined;
  s.claimed.run(claim.user, claim.position, claim.taskId);
}

/** The Taskbox: one row per human task, with who may see it and where it stands. */
export const taskListProjection: Projection = {
  name: 'task-list',
  prepare: statements,
  schema: TASK_LIST_SCHEMA,
  queryIndexes: TASK_LIST_QUERY_INDEXES,
  startBatch(db: Sql): void {
    const s = statements(db);
    s.claim = undefined;
    boundCache(s.instances);
  },
  endBatch(db: Sql): void {
    writeClaim(statements(db));
  },
  rolledBack(db: Sql): void {
    const s = statements(db);
    s.claim = undefined;
    s.instances.clear();
  },
  apply(db: Sql, stored: StoredEvent, decoded?: LifelineEvent): void {
    const instanceId = instanceIdOf(stored.streamId);
    if (instanceId === undefined) return;
    const s = statements(db);
    const event = decoded ?? asLifelineEvent(stored);
    const { position } = stored;
    if (s.claim !== undefined) {
      const { claim } = s;
      if (event.type === 'TaskCompleted' && event.data.taskId === claim.taskId) {
        s.claim = undefined;
        s.claimedAndCompleted.run(claim.user, ...completion(event.data, stored.metadata.at, position));
        return;
      }
      writeClaim(s);
    }
    switch (event.type) {
      case 'InstanceStarted': {
        const { definitionKey, entity } = event.data;
        s.instanceStarted.run(instanceId, definitionKey, entity.type, entity.id);
        s.instances.set(instanceId, { definition_key: definitionKey, entity_type: entity.type, entity_id: entity.id });
        return;
      }
      case 'TaskCreated': {
        const d = event.data;
        let instance = s.instances.get(instanceId);
        if (instance === undefined) {
          instance = s.instance.get(instanceId) as InstanceRow | undefined;
          if (instance) s.instances.set(instanceId, instance);
        }
        s.created.run(
          d.taskId,
          instanceId,
          instance?.definition_key ?? null,
          d.activityId,
          d.title,
          d.instructions ?? null,
          d.hint ?? null,
          d.assignee.user ?? null,
          d.assignee.role ?? null,
          instance?.entity_type ?? null,
          instance?.entity_id ?? null,
          stored.metadata.at,
          d.startAt,
          d.dueAt ?? null,
          json(d.results),
          json(d.form),
          json(d.question),
          position,
        );
        return;
      }
      case 'TaskClaimed':
        s.claim = { taskId: event.data.taskId, user: event.data.user, position };
        return;
      case 'TaskReleased':
        s.released.run(event.data.role ?? null, position, event.data.taskId);
        return;
      case 'TaskReassigned': {
        const { to, taskId } = event.data;
        if (to.user !== undefined) s.reassignedToUser.run(to.user, to.role ?? null, position, taskId);
        else if (to.role !== undefined) s.reassignedToRole.run(to.role, position, taskId);
        return;
      }
      case 'TaskPostponed':
        s.postponed.run(event.data.until, event.data.dueAt ?? null, position, event.data.taskId);
        return;
      case 'TaskCompleted':
        s.completed.run(...completion(event.data, stored.metadata.at, position));
        return;
      case 'TaskCancelled':
        s.cancelled.run(stored.metadata.at, position, event.data.taskId);
        return;
      case 'RecordDeleted':
        // Taking the definition's path leaves every open task, as the end of the instance does.
        if (event.data.policy === 'next') s.instanceEnded.run(stored.metadata.at, position, instanceId);
        return;
      case 'InstanceMigrated': {
        // Open tasks show the activity they rest at in the new version (their ids stay).
        const { mapping } = event.data;
        const open = s.openTasksOf.all(instanceId) as { id: string; activity_id: string }[];
        for (const task of open) {
          if (Object.hasOwn(mapping, task.activity_id))
            s.activityMoved.run(mapping[task.activity_id], position, task.id);
        }
        return;
      }
      case 'InstanceTerminated':
      case 'InstanceCompleted':
        s.instanceEnded.run(stored.metadata.at, position, instanceId);
        return;
      default:
        // Every other event leaves the task list as it is.
        return;
    }
  },
};
