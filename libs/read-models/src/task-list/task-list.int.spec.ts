import type { TaskCreated } from '@lifeline/process-domain';
import { ReadModelFixture } from '../testing/read-model-fixture';
import {
  countTasks,
  getTask,
  listTasks,
  taskCountQuery,
  taskListQuery,
  type TaskFilter,
  type TaskViewer,
} from './task-list.queries';

const alice: TaskViewer = { user: 'alice', roles: ['accounting'], admin: false };
const bob: TaskViewer = { user: 'bob', roles: ['accounting'], admin: false };
const carol: TaskViewer = { user: 'carol', roles: ['legal'], admin: false };
const admin: TaskViewer = { user: 'root', roles: [], admin: true };

describe('task list', () => {
  let rm: ReadModelFixture;
  beforeEach(() => {
    rm = new ReadModelFixture();
  });
  afterEach(() => rm.dispose());

  const startInstance = (instanceId: string, entityId = 'INV-7', definitionKey = 'invoice-approval') =>
    rm.log.instance(instanceId, {
      type: 'InstanceStarted',
      data: {
        instanceId,
        definitionKey,
        definitionVersion: 1,
        definitionName: 'Invoice approval',
        entity: { type: 'Invoice', id: entityId },
        variables: {},
        cause: { kind: 'api' },
      },
    });

  const createTask = (instanceId: string, taskId: string, overrides: Partial<TaskCreated['data']> = {}) =>
    rm.log.instance(instanceId, {
      type: 'TaskCreated',
      data: {
        taskId,
        activityId: 'review',
        title: `Review ${taskId}`,
        instructions: 'Check the supplier and the amount.',
        hint: 'Above 10000, look twice.',
        assignee: { role: 'accounting' },
        startAt: rm.log.now(),
        dueAt: '2026-11-23T10:00:00.000Z',
        results: ['Approve', 'Reject'],
        form: [{ name: 'comment', type: 'text', required: false }],
        rule: { role: 'accounting' },
        ...overrides,
      },
    });

  const ids = (viewer: TaskViewer, filter = {}, now = rm.log.now()) =>
    listTasks(rm.sql, viewer, filter, now).map((t) => `${t.id}:${t.status}`);

  it('lists a new role task to every member of the role and to nobody else', () => {
    startInstance('i-1');
    createTask('i-1', 't-1');
    rm.project();

    expect(ids(alice)).toEqual(['t-1:new']);
    expect(ids(bob)).toEqual(['t-1:new']);
    expect(ids(carol)).toEqual([]);
    const [row] = listTasks(rm.sql, alice, {}, rm.log.now());
    expect(row).toEqual({
      id: 't-1',
      title: 'Review t-1',
      status: 'new',
      assignee: null,
      role: 'accounting',
      entity: { type: 'Invoice', id: 'INV-7' },
      definitionKey: 'invoice-approval',
      instanceId: 'i-1',
      activityId: 'review',
      createdAt: '2026-11-21T10:00:00.000Z',
      startAt: '2026-11-21T10:00:00.000Z',
      dueAt: '2026-11-23T10:00:00.000Z',
      overdue: false,
    });
  });

  it('a claimed task is ongoing for its claimer and leaves the role queue', () => {
    startInstance('i-1');
    createTask('i-1', 't-1');
    rm.log.instance('i-1', { type: 'TaskClaimed', data: { taskId: 't-1', user: 'alice' } }, 'alice');
    rm.project();

    expect(ids(alice)).toEqual(['t-1:ongoing']);
    expect(ids(bob)).toEqual([]);
    expect(ids(alice, { status: 'new' })).toEqual([]);
    expect(ids(alice, { status: 'ongoing' })).toEqual(['t-1:ongoing']);
  });

  it('a released task goes back to the role as new', () => {
    startInstance('i-1');
    createTask('i-1', 't-1');
    rm.log.instance('i-1', { type: 'TaskClaimed', data: { taskId: 't-1', user: 'alice' } }, 'alice');
    rm.log.instance('i-1', { type: 'TaskReleased', data: { taskId: 't-1', user: 'alice' } }, 'alice');
    rm.project();

    expect(ids(bob)).toEqual(['t-1:new']);
    expect(getTask(rm.sql, 't-1')).toMatchObject({ assignee: null, role: 'accounting', status: 'new' });
  });

  it('a task reassigned to a user is ongoing for that user; reassigned to a role it is new for the role', () => {
    startInstance('i-1');
    createTask('i-1', 't-1');
    rm.log.instance('i-1', {
      type: 'TaskReassigned',
      data: { taskId: 't-1', from: { role: 'accounting' }, to: { user: 'bob' } },
    });
    rm.project();
    expect(ids(bob)).toEqual(['t-1:ongoing']);
    expect(ids(alice)).toEqual([]);

    rm.log.instance(
      'i-1',
      { type: 'TaskReassigned', data: { taskId: 't-1', from: { user: 'bob' }, to: { role: 'legal' } } },
      'bob',
    );
    rm.project();
    expect(ids(bob)).toEqual([]);
    expect(ids(carol)).toEqual(['t-1:new']);
    expect(getTask(rm.sql, 't-1')).toMatchObject({ assignee: null, role: 'legal' });
  });

  it('a task preassigned to a user is new and only that user sees it until claimed', () => {
    startInstance('i-1');
    createTask('i-1', 't-1', { assignee: { user: 'alice' }, rule: { userFrom: 'entity.ownerId' } });
    rm.project();
    expect(ids(alice)).toEqual(['t-1:new']);
    expect(ids(bob)).toEqual([]);

    rm.log.instance('i-1', { type: 'TaskClaimed', data: { taskId: 't-1', user: 'alice' } }, 'alice');
    rm.project();
    expect(ids(alice)).toEqual(['t-1:ongoing']);
  });

  it('a postponed task is hidden from the open list until its start, then comes back', () => {
    startInstance('i-1');
    createTask('i-1', 't-1');
    rm.log.instance('i-1', {
      type: 'TaskPostponed',
      data: { taskId: 't-1', until: '2026-11-25T08:00:00.000Z', dueAt: '2026-11-27T08:00:00.000Z' },
    });
    rm.project();

    expect(ids(alice)).toEqual([]);
    expect(ids(alice, { status: 'postponed' })).toEqual(['t-1:postponed']);
    expect(getTask(rm.sql, 't-1', rm.log.now())).toMatchObject({
      status: 'postponed',
      startAt: '2026-11-25T08:00:00.000Z',
      dueAt: '2026-11-27T08:00:00.000Z',
    });
    const later = '2026-11-25T08:00:00.000Z';
    expect(ids(alice, {}, later)).toEqual(['t-1:new']);
    expect(ids(alice, { status: 'postponed' }, later)).toEqual([]);
  });

  it('a completed task keeps its result, fields and answers and leaves the open list', () => {
    startInstance('i-1');
    createTask('i-1', 't-1');
    rm.log.instance('i-1', { type: 'TaskClaimed', data: { taskId: 't-1', user: 'alice' } }, 'alice');
    rm.log.advance(60_000);
    rm.log.instance(
      'i-1',
      {
        type: 'TaskCompleted',
        data: {
          taskId: 't-1',
          activityId: 'review',
          user: 'alice',
          result: 'Approve',
          fields: { comment: 'fine' },
          answers: ['Card'],
        },
      },
      'alice',
    );
    rm.project();

    expect(ids(alice)).toEqual([]);
    expect(ids(alice, { status: 'completed' })).toEqual(['t-1:completed']);
    expect(getTask(rm.sql, 't-1')).toMatchObject({
      status: 'completed',
      completedAt: '2026-11-21T10:01:00.000Z',
      completedBy: 'alice',
      result: 'Approve',
      fields: { comment: 'fine' },
      answers: ['Card'],
      results: ['Approve', 'Reject'],
      form: [{ name: 'comment', type: 'text', required: false }],
      instructions: 'Check the supplier and the amount.',
      hint: 'Above 10000, look twice.',
    });
  });

  it('gives the same rows whether a claim and a completion share a batch or come one by one', () => {
    startInstance('i-1');
    createTask('i-1', 't-1');
    createTask('i-1', 't-2');
    createTask('i-1', 't-3');
    const complete = (taskId: string, user: string) =>
      rm.log.instance(
        'i-1',
        { type: 'TaskCompleted', data: { taskId, activityId: 'review', user, result: 'Approve', fields: {} } },
        user,
      );
    rm.log.instance('i-1', { type: 'TaskClaimed', data: { taskId: 't-1', user: 'alice' } }, 'alice');
    complete('t-1', 'alice');
    // A claim followed by another task's event is written on its own; a claim of a closed task changes nothing.
    rm.log.instance('i-1', { type: 'TaskClaimed', data: { taskId: 't-2', user: 'bob' } }, 'bob');
    complete('t-3', 'carol');
    rm.log.instance('i-1', { type: 'TaskClaimed', data: { taskId: 't-1', user: 'bob' } }, 'bob');
    complete('t-1', 'bob');
    rm.log.instance('i-1', { type: 'TaskClaimed', data: { taskId: 't-2', user: 'carol' } }, 'carol');
    rm.project();

    const alone = new ReadModelFixture();
    try {
      for (const event of rm.log.events) alone.projector.applyBatch([event]);
      for (const id of ['t-1', 't-2', 't-3']) expect(getTask(rm.sql, id)).toEqual(getTask(alone.sql, id));
      expect(getTask(rm.sql, 't-1')).toMatchObject({ status: 'completed', assignee: 'alice', completedBy: 'alice' });
      expect(getTask(rm.sql, 't-2')).toMatchObject({ status: 'ongoing', assignee: 'carol' });
      expect(getTask(rm.sql, 't-3')).toMatchObject({ status: 'completed', assignee: null, completedBy: 'carol' });
      expect(ids(admin, { status: 'all', assignee: 'alice' })).toEqual(['t-1:completed']);
    } finally {
      alone.dispose();
    }
  });

  it('terminating an instance cancels its open tasks and leaves completed ones alone', () => {
    startInstance('i-1');
    createTask('i-1', 't-1');
    createTask('i-1', 't-2');
    rm.log.instance(
      'i-1',
      { type: 'TaskCompleted', data: { taskId: 't-2', activityId: 'review', user: 'bob', fields: {} } },
      'bob',
    );
    startInstance('i-2', 'INV-8');
    createTask('i-2', 't-3');
    rm.log.instance('i-1', { type: 'InstanceTerminated', data: { by: 'root', reason: 'duplicate' } }, 'root');
    rm.project();

    expect(getTask(rm.sql, 't-1')?.status).toBe('cancelled');
    expect(getTask(rm.sql, 't-2')?.status).toBe('completed');
    expect(ids(alice)).toEqual(['t-3:new']);
    expect(ids(alice, { status: 'all' })).toEqual(['t-1:cancelled', 't-2:completed', 't-3:new']);
  });

  it('a completed instance cancels a task still open', () => {
    startInstance('i-1');
    createTask('i-1', 't-1');
    rm.log.instance('i-1', { type: 'InstanceCompleted', data: { endActivityId: 'done' } });
    rm.project();
    expect(getTask(rm.sql, 't-1')?.status).toBe('cancelled');
  });

  it('an admin sees any assignee or role on request, and otherwise only their own list', () => {
    startInstance('i-1');
    createTask('i-1', 't-1', { assignee: { user: 'bob' } });
    createTask('i-1', 't-2', { assignee: { role: 'legal' } });
    rm.project();

    expect(ids(admin)).toEqual([]);
    expect(ids(admin, { assignee: 'bob' })).toEqual(['t-1:new']);
    expect(ids(admin, { role: 'legal' })).toEqual(['t-2:new']);
    // A user cannot look into someone else's list.
    expect(ids(alice, { assignee: 'bob' })).toEqual([]);
    expect(ids(carol, { role: 'accounting' })).toEqual([]);
  });

  it('an everyone viewer (an as-of view for an auditor) sees every task, and counts them all', () => {
    startInstance('i-1');
    createTask('i-1', 't-1', { assignee: { user: 'bob' } });
    createTask('i-1', 't-2', { assignee: { role: 'legal' } });
    createTask('i-1', 't-3');
    rm.project();
    const auditor: TaskViewer = { user: 'eve', roles: ['auditor'], admin: false, everyone: true };

    expect(ids(auditor)).toEqual(['t-1:new', 't-2:new', 't-3:new']);
    expect(ids(auditor, { role: 'legal' })).toEqual(['t-2:new']);
    expect(ids(auditor, { assignee: 'bob' })).toEqual(['t-1:new']);
    expect(countTasks(rm.sql, auditor, {}, rm.log.now())).toMatchObject({ new: 3, open: 3 });
  });

  it('merges own and role tasks oldest first, and pages through them', () => {
    const viewer: TaskViewer = { user: 'alice', roles: ['accounting', 'legal'], admin: false };
    startInstance('i-1');
    for (let i = 1; i <= 6; i += 1) {
      rm.log.advance(1000);
      const assignee = i % 3 === 0 ? { user: 'alice' } : i % 3 === 1 ? { role: 'accounting' } : { role: 'legal' };
      createTask('i-1', `t-${i}`, { assignee });
    }
    createTask('i-1', 't-other', { assignee: { user: 'bob' } });
    rm.project();

    expect(listTasks(rm.sql, viewer, {}, rm.log.now()).map((t) => t.id)).toEqual([
      't-1',
      't-2',
      't-3',
      't-4',
      't-5',
      't-6',
    ]);
    expect(listTasks(rm.sql, viewer, { limit: 2, offset: 2 }, rm.log.now()).map((t) => t.id)).toEqual(['t-3', 't-4']);
    expect(listTasks(rm.sql, viewer, { role: 'legal' }, rm.log.now()).map((t) => t.id)).toEqual(['t-2', 't-5']);
  });

  it("pages one record's tasks across the viewer's branches like the whole list does", () => {
    const viewer: TaskViewer = { user: 'alice', roles: ['accounting', 'legal'], admin: false };
    startInstance('i-1', 'INV-7');
    startInstance('i-2', 'INV-8');
    for (let i = 1; i <= 7; i += 1) {
      rm.log.advance(1000);
      const assignee = i % 3 === 0 ? { user: 'alice' } : i % 3 === 1 ? { role: 'accounting' } : { role: 'legal' };
      createTask(i === 4 ? 'i-2' : 'i-1', `t-${i}`, { assignee });
    }
    createTask('i-1', 't-bob', { assignee: { user: 'bob' } });
    rm.project();
    const now = rm.log.now();
    const page = (filter: TaskFilter) => listTasks(rm.sql, viewer, filter, now).map((t) => t.id);
    const all = page({ entityId: 'INV-7', status: 'all' });
    expect(all).toEqual(['t-1', 't-2', 't-3', 't-5', 't-6', 't-7']);
    expect(all).toEqual(page({ status: 'all', limit: 500 }).filter((id) => id !== 't-4'));
    expect(page({ entityId: 'INV-7', status: 'all', limit: 2 })).toEqual(['t-1', 't-2']);
    expect(page({ entityId: 'INV-7', status: 'all', limit: 2, offset: 2 })).toEqual(['t-3', 't-5']);
    expect(page({ entityId: 'INV-7', status: 'all', limit: 2, offset: 4 })).toEqual(['t-6', 't-7']);
    expect(page({ entityId: 'INV-7', status: 'all', limit: 2, offset: 6 })).toEqual([]);
    expect(page({ entityId: 'INV-7', role: 'legal', offset: 1 })).toEqual(['t-5']);
    expect(page({ entityId: 'INV-7', assignee: 'alice' })).toEqual(['t-3', 't-6']);
    expect(listTasks(rm.sql, admin, { entityId: 'INV-7', assignee: 'bob' }, now).map((t) => t.id)).toEqual(['t-bob']);
  });

  it('filters by record, definition, search and due date, and flags overdue tasks', () => {
    startInstance('i-1', 'INV-7');
    createTask('i-1', 't-1', { title: 'Review the invoice', dueAt: '2026-11-21T09:00:00.000Z' });
    startInstance('i-2', 'INV-8', 'purchase-order');
    createTask('i-2', 't-2', { title: 'Approve the order', dueAt: '2026-11-21T18:00:00.000Z' });
    startInstance('i-3', 'INV-9');
    createTask('i-3', 't-3', { title: 'Review again', dueAt: '2026-11-26T18:00:00.000Z' });
    createTask('i-3', 't-4', { title: 'No deadline', dueAt: undefined });
    rm.project();
    const now = '2026-11-21T12:00:00.000Z';
    const list = (filter: object) => listTasks(rm.sql, alice, filter, now).map((t) => t.id);

    expect(list({ entityType: 'Invoice', entityId: 'INV-8' })).toEqual(['t-2']);
    expect(list({ definitionKey: 'purchase-order' })).toEqual(['t-2']);
    expect(list({ search: 'review' })).toEqual(['t-1', 't-3']);
    expect(list({ search: 'inv-9' })).toEqual(['t-3', 't-4']);
    expect(list({ search: '%' })).toEqual([]);
    expect(list({ due: 'overdue' })).toEqual(['t-1']);
    expect(list({ due: 'today' })).toEqual(['t-1', 't-2']);
    expect(list({ due: 'week' })).toEqual(['t-1', 't-2', 't-3']);
    expect(listTasks(rm.sql, alice, {}, now).map((t) => t.overdue)).toEqual([true, false, false, false]);
  });

  it('counts the viewer’s tasks by status', () => {
    startInstance('i-1');
    createTask('i-1', 't-1');
    createTask('i-1', 't-2', { dueAt: '2026-11-20T00:00:00.000Z' });
    createTask('i-1', 't-3');
    createTask('i-1', 't-4');
    createTask('i-1', 't-5', { assignee: { role: 'legal' } });
    rm.log.instance('i-1', { type: 'TaskClaimed', data: { taskId: 't-2', user: 'alice' } }, 'alice');
    rm.log.instance('i-1', { type: 'TaskPostponed', data: { taskId: 't-3', until: '2026-12-01T00:00:00.000Z' } });
    rm.log.instance(
      'i-1',
      { type: 'TaskCompleted', data: { taskId: 't-4', activityId: 'review', user: 'alice', fields: {} } },
      'alice',
    );
    rm.project();

    expect(countTasks(rm.sql, alice, {}, rm.log.now())).toEqual({
      new: 1,
      ongoing: 1,
      postponed: 1,
      completed: 1,
      cancelled: 0,
      open: 2,
      overdue: 1,
    });
  });

  it('counts what the list shows: every filter but the status applies, for admins and members alike', () => {
    startInstance('i-1', 'INV-7');
    startInstance('i-2', 'INV-8', 'purchase-order');
    createTask('i-1', 'a-1', { assignee: { role: 'sales' }, title: 'Call the customer' });
    createTask('i-1', 'a-2', { assignee: { role: 'sales' }, dueAt: '2026-11-20T00:00:00.000Z' });
    createTask('i-2', 'a-3', { assignee: { role: 'sales' } });
    createTask('i-1', 'a-4', { assignee: { role: 'accounting' } });
    createTask('i-2', 'a-5', { assignee: { role: 'accounting' } });
    rm.log.instance('i-1', { type: 'TaskClaimed', data: { taskId: 'a-2', user: 'sam' } }, 'sam');
    rm.log.instance(
      'i-2',
      { type: 'TaskCompleted', data: { taskId: 'a-3', activityId: 'review', user: 'sam', fields: {} } },
      'sam',
    );
    rm.project();
    const now = rm.log.now();
    /** Counts from the list itself: every status, the same filters. */
    const fromItems = (viewer: TaskViewer, filter: TaskFilter) => {
      const rows = listTasks(rm.sql, viewer, { ...filter, status: 'all' }, now);
      const n = (status: string) => rows.filter((r) => r.status === status).length;
      return {
        new: n('new'),
        ongoing: n('ongoing'),
        postponed: n('postponed'),
        completed: n('completed'),
        cancelled: n('cancelled'),
        open: n('new') + n('ongoing'),
        overdue: rows.filter((r) => r.overdue).length,
      };
    };
    const cases: [TaskViewer, TaskFilter][] = [
      [admin, { role: 'sales' }],
      [admin, { role: 'sales', status: 'completed' }],
      [admin, { assignee: 'sam' }],
      [admin, { role: 'sales', definitionKey: 'purchase-order' }],
      [alice, { entityId: 'INV-8' }],
      [alice, { entityType: 'Invoice', search: 'a-4' }],
      [admin, { role: 'sales', search: 'customer' }],
      [admin, { role: 'sales', due: 'overdue' }],
    ];
    for (const [viewer, filter] of cases) {
      expect({ filter, counts: countTasks(rm.sql, viewer, filter, now) }).toEqual({
        filter,
        counts: fromItems(viewer, filter),
      });
    }
    expect(countTasks(rm.sql, admin, { role: 'sales' }, now)).toMatchObject({ new: 1, ongoing: 1, completed: 1 });
  });

  it('reads a page from the indexes without sorting the whole list', () => {
    const plan = (viewer: TaskViewer, filter: TaskFilter) => {
      const query = taskListQuery(viewer, filter, rm.log.now())!;
      return rm.sql.prepare(`EXPLAIN QUERY PLAN ${query.text}`).all(query.params) as {
        id: number;
        parent: number;
        detail: string;
      }[];
    };
    // One branch: the index gives the order, nothing is sorted.
    const own = plan({ user: 'alice', roles: [], admin: false }, {}).map((r) => r.detail);
    expect(own.join('\n')).toContain('USING INDEX tasks_by_assignee (assignee=? AND open=?)');
    expect(own.join('\n')).not.toContain('TEMP B-TREE');

    // Several branches: each reads its index in order; only the merge sorts the few rows they return.
    const merged = plan({ user: 'alice', roles: ['accounting', 'legal'], admin: false }, { status: 'open' });
    const details = merged.map((r) => r.detail).join('\n');
    expect(details).toContain('USING INDEX tasks_by_role (role=? AND assignee=? AND open=?)');
    const byId = new Map(merged.map((r) => [r.id, r.detail]));
    const sortsInsideBranches = merged.filter(
      (r) => r.detail.includes('TEMP B-TREE') && (byId.get(r.parent) ?? '').startsWith('CO-ROUTINE'),
    );
    expect(sortsInsideBranches).toEqual([]);

    // One record's tasks (its page, a client waiting for its task): that record's index, whatever the roles.
    const record = plan(
      { user: 'alice', roles: ['accounting', 'legal'], admin: false },
      { entityId: 'INV-7', status: 'all' },
    )
      .map((r) => r.detail)
      .join('\n');
    expect(record).toContain('USING INDEX tasks_by_record (entity_id=?)');
    expect(record).not.toContain('tasks_by_role');
    // Sorted by SQLite's sorter: with a LIMIT it sorts into a temporary b-tree, which cost several times the read.
    const recordQuery = taskListQuery(
      { user: 'alice', roles: ['accounting', 'legal'], admin: false },
      { entityId: 'INV-7', status: 'all', limit: 1 },
      rm.log.now(),
    )!;
    const opcodes = (rm.sql.prepare(`EXPLAIN ${recordQuery.text}`).all(recordQuery.params) as { opcode: string }[]).map(
      (r) => r.opcode,
    );
    expect(opcodes).toContain('SorterSort');
    expect(opcodes).not.toContain('OpenEphemeral');
    const countQuery = taskCountQuery(
      { user: 'alice', roles: ['accounting'], admin: false },
      { entityId: 'INV-7' },
      rm.log.now(),
    )!;
    const counts = rm.sql.prepare(`EXPLAIN QUERY PLAN ${countQuery.text}`).all(countQuery.params) as {
      detail: string;
    }[];
    expect(counts.map((r) => r.detail).join('\n')).toContain('USING INDEX tasks_by_record (entity_id=?)');
  });
});
