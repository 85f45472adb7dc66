import { allProjections } from '../projections';
import { Projector, ReadModelDb } from '../read-model-db';
import { invoiceApproval } from '../testing/event-log';
import { ReadModelFixture } from '../testing/read-model-fixture';
import { getDefinition, getDefinitionVersion, listDefinitions } from './process-grid.queries';

describe('process grid', () => {
  let rm: ReadModelFixture;
  beforeEach(() => {
    rm = new ReadModelFixture();
  });
  afterEach(() => rm.dispose());

  const publish = (key: string, version: number, overrides = {}) =>
    rm.log.append(
      `definition-${key}`,
      {
        type: 'DefinitionPublished',
        data: { key, version, definition: invoiceApproval({ key, ...overrides }) },
      },
      'root',
    );

  const start = (instanceId: string, definitionKey = 'invoice-approval') =>
    rm.log.instance(instanceId, {
      type: 'InstanceStarted',
      data: {
        instanceId,
        definitionKey,
        definitionVersion: 1,
        definitionName: 'Invoice approval',
        entity: { type: 'Invoice', id: instanceId },
        variables: {},
        cause: { kind: 'api' },
      },
    });

  const task = (instanceId: string, taskId: string) =>
    rm.log.instance(instanceId, {
      type: 'TaskCreated',
      data: {
        taskId,
        activityId: 'review',
        title: 'Review',
        assignee: { role: 'accounting' },
        startAt: rm.log.now(),
        rule: { role: 'accounting' },
      },
    });

  it('keeps a version published as BPMN with its XML, and a YAML or JSON one without its text', () => {
    const published = (version: number, source: string) =>
      rm.log.append(
        'definition-invoice-approval',
        {
          type: 'DefinitionPublished',
          data: { key: 'invoice-approval', version, definition: invoiceApproval({ name: `v${version}` }), source },
        },
        'root',
      );
    published(1, '  <?xml version="1.0"?><bpmn:definitions/>');
    published(2, 'key: invoice-approval\n');
    rm.project();

    expect(getDefinitionVersion(rm.sql, 'invoice-approval', 1)).toEqual({
      version: 1,
      definition: invoiceApproval({ name: 'v1' }),
      bpmn: '  <?xml version="1.0"?><bpmn:definitions/>',
    });
    expect(getDefinitionVersion(rm.sql, 'invoice-approval', 2)).toEqual({
      version: 2,
      definition: invoiceApproval({ name: 'v2' }),
    });
    expect(getDefinitionVersion(rm.sql, 'invoice-approval')?.version).toBe(2);
    expect(getDefinitionVersion(rm.sql, 'invoice-approval', 3)).toBeUndefined();
    expect(getDefinitionVersion(rm.sql, 'other')).toBeUndefined();
  });

  it('shows the latest version and keeps the first publication as created-at', () => {
    publish('invoice-approval', 1);
    rm.log.advance(3_600_000);
    publish('invoice-approval', 2, {
      name: 'Invoice approval v2',
      executionOrder: 5,
      triggers: [{ on: 'updated', fields: ['status'] }],
    });
    rm.project();

    const [row] = listDefinitions(rm.sql);
    expect(row).toEqual({
      key: 'invoice-approval',
      name: 'Invoice approval v2',
      relatedEntity: 'Invoice',
      executionOrder: 5,
      enabled: true,
      createdAt: '2026-11-21T10:00:00.000Z',
      updatedAt: '2026-11-21T11:00:00.000Z',
      version: 2,
      triggers: [{ on: 'updated', fields: ['status'] }],
      startableBy: [],
      running: 0,
      openTasks: 0,
    });
    const details = getDefinition(rm.sql, 'invoice-approval')!;
    expect(details.versions.map((v) => [v.version, v.publishedAt, v.definition.name])).toEqual([
      [1, '2026-11-21T10:00:00.000Z', 'Invoice approval'],
      [2, '2026-11-21T11:00:00.000Z', 'Invoice approval v2'],
    ]);
    expect(details.definition.name).toBe('Invoice approval v2');
    expect(getDefinition(rm.sql, 'nope')).toBeUndefined();
  });

  it('follows activation and execution order, and sorts by execution order', () => {
    publish('b-process', 1, { executionOrder: 20 });
    publish('a-process', 1, { executionOrder: 30 });
    rm.log.append(
      'definition-a-process',
      { type: 'ExecutionOrderChanged', data: { key: 'a-process', executionOrder: 10 } },
      'root',
    );
    rm.log.append('definition-b-process', { type: 'DefinitionDeactivated', data: { key: 'b-process' } }, 'root');
    rm.project();

    expect(listDefinitions(rm.sql).map((d) => [d.key, d.executionOrder, d.enabled])).toEqual([
      ['a-process', 10, true],
      ['b-process', 20, false],
    ]);
    expect(listDefinitions(rm.sql, { enabled: false }).map((d) => d.key)).toEqual(['b-process']);

    rm.log.append('definition-b-process', { type: 'DefinitionActivated', data: { key: 'b-process' } }, 'root');
    rm.project();
    expect(getDefinition(rm.sql, 'b-process')?.enabled).toBe(true);
  });

  it('counts running instances and open tasks as they start, complete and end', () => {
    publish('invoice-approval', 1);
    start('i-1');
    task('i-1', 't-1');
    task('i-1', 't-2');
    start('i-2');
    task('i-2', 't-3');
    rm.project();
    expect(listDefinitions(rm.sql)[0]).toMatchObject({ running: 2, openTasks: 3 });

    rm.log.instance('i-1', {
      type: 'TaskCompleted',
      data: { taskId: 't-1', activityId: 'review', user: 'alice', fields: {} },
    });
    rm.log.instance('i-1', { type: 'InstanceTerminated', data: { by: 'root' } });
    rm.project();
    expect(listDefinitions(rm.sql)[0]).toMatchObject({ running: 1, openTasks: 1 });

    rm.log.instance('i-2', {
      type: 'TaskCompleted',
      data: { taskId: 't-3', activityId: 'review', user: 'bob', fields: {} },
    });
    rm.log.instance('i-2', { type: 'InstanceCompleted', data: { endActivityId: 'done' } });
    rm.project();
    expect(listDefinitions(rm.sql)[0]).toMatchObject({ running: 0, openTasks: 0 });
  });

  it('counts a batch as it would count each event alone: one for definitions not yet published is lost', () => {
    start('i-0', 'later');
    publish('invoice-approval', 1);
    publish('later', 1);
    start('i-1');
    task('i-1', 't-1');
    start('i-2');
    task('i-2', 't-2');
    rm.log.instance('i-2', {
      type: 'TaskCompleted',
      data: { taskId: 't-2', activityId: 'review', user: 'bob', fields: {} },
    });
    rm.log.instance('i-2', { type: 'InstanceCompleted', data: { endActivityId: 'done' } });
    start('i-3', 'later');
    rm.project();
    expect(listDefinitions(rm.sql).map((d) => [d.key, d.running, d.openTasks])).toEqual([
      ['invoice-approval', 1, 1],
      ['later', 1, 0],
    ]);
  });

  it('counts a task completed in a later batch, after the file is reopened, from the open tasks on its instance', () => {
    publish('invoice-approval', 1);
    start('i-1');
    task('i-1', 't-1');
    task('i-1', 't-2');
    rm.project();
    const file = rm.db.file;
    rm.db.close();
    const reopened = ReadModelDb.open(file);
    const projector = new Projector(reopened, allProjections());
    rm.log.instance('i-1', {
      type: 'TaskCompleted',
      data: { taskId: 't-2', activityId: 'review', user: 'bob', fields: {} },
    });
    // A start repeated for a known instance, and a completion of a task that is not open, count nothing.
    start('i-1');
    rm.log.instance('i-1', {
      type: 'TaskCompleted',
      data: { taskId: 't-2', activityId: 'review', user: 'bob', fields: {} },
    });
    rm.log.instance('i-1', {
      type: 'TaskCompleted',
      data: { taskId: 't-9', activityId: 'review', user: 'bob', fields: {} },
    });
    projector.applyBatch(rm.log.events);
    expect(listDefinitions(reopened.sql)[0]).toMatchObject({ running: 1, openTasks: 1 });
    rm.log.instance('i-1', { type: 'InstanceTerminated', data: { by: 'root' } });
    projector.applyBatch(rm.log.events);
    expect(listDefinitions(reopened.sql)[0]).toMatchObject({ running: 0, openTasks: 0 });
    reopened.close();
  });

  it('rebuilds a grid written by its first layout (a table of open tasks) into one row per instance', () => {
    publish('invoice-approval', 1);
    start('i-1');
    task('i-1', 't-1');
    rm.project();
    // What version 1 left in the file: its own table of open tasks, and its checkpoint's version.
    rm.sql.exec('CREATE TABLE IF NOT EXISTS process_grid_open_tasks (task_id TEXT PRIMARY KEY, instance_id TEXT)');
    rm.sql.prepare("UPDATE projections_checkpoint SET version = 1 WHERE name = 'process-grid'").run();
    const file = rm.db.file;
    rm.db.close();

    const reopened = ReadModelDb.open(file);
    const projector = new Projector(reopened, allProjections());
    expect(projector.checkpoint()).toBe(0);
    projector.applyBatch(rm.log.events);
    expect(listDefinitions(reopened.sql)[0]).toMatchObject({ running: 1, openTasks: 1 });
    const tables = reopened.sql.prepare("SELECT name FROM sqlite_master WHERE name LIKE 'process_grid%'").all();
    expect(tables).toEqual([{ name: 'process_grid_instances' }]);
    expect(reopened.sql.prepare('SELECT open_tasks FROM process_grid_instances').all()).toEqual([
      { open_tasks: '["t-1"]' },
    ]);
    reopened.close();
  });
});
