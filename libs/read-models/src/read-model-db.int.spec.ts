import { join } from 'node:path';
import { entityTimeline } from './entity-timeline/entity-timeline.queries';
import { getInstance } from './instances/instances.queries';
import { listDefinitions } from './process-grid/process-grid.queries';
import { getTask } from './task-list/task-list.queries';
import { allProjections } from './projections';
import Database from 'better-sqlite3';
import { Projector, READ_MODEL_PAGE_SIZE, ReadModelDb, readTogether, type Projection } from './read-model-db';
import { ReadModels } from './read-models';
import { invoiceApproval, syntheticLog } from './testing/event-log';
import { ReadModelFixture } from './testing/read-model-fixture';

describe('projector', () => {
  let rm: ReadModelFixture;
  beforeEach(() => {
    rm = new ReadModelFixture();
  });
  afterEach(() => rm.dispose());

  const startInstance = (instanceId: string) =>
    rm.log.instance(instanceId, {
      type: 'InstanceStarted',
      data: {
        instanceId,
        definitionKey: 'invoice-approval',
        definitionVersion: 1,
        definitionName: 'Invoice approval',
        entity: { type: 'Invoice', id: instanceId },
        variables: {},
        cause: { kind: 'api' },
      },
    });
  const publish = () =>
    rm.log.append('definition-invoice-approval', {
      type: 'DefinitionPublished',
      data: { key: 'invoice-approval', version: 1, definition: invoiceApproval() },
    });

  it('applies a redelivered batch once, and keeps the checkpoint across a reopen', () => {
    publish();
    startInstance('i-1');
    rm.project();
    rm.projector.applyBatch(rm.log.events);
    expect(listDefinitions(rm.sql)[0]?.running).toBe(1);
    expect(rm.projector.checkpoint()).toBe(2);

    const file = rm.db.file;
    rm.db.close();
    const reopened = ReadModelDb.open(file);
    const projector = new Projector(reopened, allProjections());
    expect(projector.checkpoint()).toBe(2);
    startInstance('i-2');
    // The store resumes from the checkpoint but may hand back older events too.
    projector.applyBatch(rm.log.events);
    expect(listDefinitions(reopened.sql)[0]?.running).toBe(2);
    expect(projector.checkpoint()).toBe(3);
    reopened.close();
  });

  it("prepares every projection's statements when the file opens: applying events prepares none", () => {
    const db = ReadModelDb.open(rm.file('prepared.sqlite'));
    try {
      const projector = new Projector(db, allProjections());
      const prepare = jest.spyOn(db.sql, 'prepare');
      const log = syntheticLog(400);
      projector.applyBatch(log.events.slice(0, 200));
      projector.applyBatch(log.events.slice(200));
      expect(prepare).not.toHaveBeenCalled();
      expect(projector.checkpoint()).toBe(400);
    } finally {
      db.close();
    }
  });

  it('commits nothing of a batch when one projection fails on it', () => {
    publish();
    rm.project();
    const failing: Projection = {
      name: 'failing',
      schema: [],
      apply: (_db, event) => {
        if (event.type === 'InstanceStarted') throw new Error('cannot project');
      },
    };
    const db = ReadModelDb.open(rm.file('other.sqlite'));
    const projector = new Projector(db, [...allProjections(), failing]);
    projector.applyBatch(rm.log.events);
    startInstance('i-1');
    expect(() => projector.applyBatch(rm.log.events.slice(1))).toThrow('cannot project');
    expect(listDefinitions(db.sql)[0]?.running).toBe(0);
    expect(projector.checkpoint()).toBe(1);
    const stored = db.sql.prepare('SELECT name, position FROM projections_checkpoint ORDER BY name').all();
    expect(stored).toEqual([
      { name: 'entity-timeline', position: 1 },
      { name: 'failing', position: 1 },
      { name: 'instances', position: 1 },
      { name: 'jobs', position: 1 },
      { name: 'process-grid', position: 1 },
      { name: 'start-failures', position: 1 },
      { name: 'task-list', position: 1 },
      { name: 'webhooks', position: 1 },
    ]);
    db.close();
  });

  it('keeps nothing of a failed batch in memory: a later batch reads only what was committed', () => {
    publish();
    const failing: Projection = {
      name: 'failing',
      schema: [],
      apply: (_db, event) => {
        if (event.type === 'InstanceStarted') throw new Error('cannot project');
      },
    };
    const db = ReadModelDb.open(rm.file('failed.sqlite'));
    const projector = new Projector(db, [...allProjections(), failing]);
    projector.applyBatch(rm.log.events);
    const started = startInstance('i-1');
    rm.log.instance('i-1', {
      type: 'ActivityEntered',
      data: { activityId: 'review', activityType: 'human', visit: 1 },
    });
    const task = rm.log.instance('i-1', {
      type: 'TaskCreated',
      data: {
        taskId: 't-1',
        activityId: 'review',
        title: 'Review',
        assignee: { role: 'accounting' },
        startAt: rm.log.now(),
        rule: { role: 'accounting' },
      },
    });
    expect(() => projector.applyBatch([started])).toThrow('cannot project');
    // Delivered without the start that was rolled back: the projections see an instance they never heard of.
    projector.applyBatch([task]);
    expect(getTask(db.sql, 't-1')).toMatchObject({ definitionKey: null, entity: null });
    expect(entityTimeline(db.sql, 'Invoice', 'i-1')).toEqual([]);
    expect(listDefinitions(db.sql)[0]).toMatchObject({ running: 0, openTasks: 0 });
    db.close();
  });

  it('forgets an instance state a rolled-back batch changed', () => {
    publish();
    startInstance('i-1');
    const failing: Projection = {
      name: 'failing',
      schema: [],
      apply: (_db, event) => {
        if (event.type === 'InstanceSuspended') throw new Error('cannot project');
      },
    };
    const db = ReadModelDb.open(rm.file('state.sqlite'));
    const projector = new Projector(db, [...allProjections(), failing]);
    projector.applyBatch(rm.log.events);
    const suspended = rm.log.instance('i-1', { type: 'InstanceSuspended', data: { by: 'root' } });
    const incident = rm.log.instance('i-1', {
      type: 'IncidentRaised',
      data: { incidentId: 'inc-1', activityId: 'review', code: 'FEEL.ERROR', message: 'no such field' },
    });
    expect(() => projector.applyBatch([suspended])).toThrow('cannot project');
    projector.applyBatch([incident]);
    expect(getInstance(db.sql, 'i-1')).toMatchObject({ status: 'incident' });
    db.close();
  });

  it('catches a newly added projection up from the start while the others skip what they have', () => {
    publish();
    startInstance('i-1');
    const seen: number[] = [];
    const counting: Projection = {
      name: 'counting',
      schema: [],
      apply: (_db, event) => void seen.push(event.position),
    };
    const db = ReadModelDb.open(rm.file('added.sqlite'));
    new Projector(db, allProjections()).applyBatch(rm.log.events);
    const projector = new Projector(db, [...allProjections(), counting]);
    expect(projector.checkpoint()).toBe(0);
    projector.applyBatch(rm.log.events);
    expect(seen).toEqual([1, 2]);
    expect(listDefinitions(db.sql)[0]?.running).toBe(1);
    db.close();
  });
});

describe('read models position', () => {
  let rm: ReadModelFixture;
  let models: ReadModels;
  beforeEach(() => {
    rm = new ReadModelFixture();
    models = ReadModels.open(join(rm.dir, 'served.sqlite'));
  });
  afterEach(async () => {
    await models.close();
    rm.dispose();
    jest.useRealTimers();
  });

  it('wakes a reader when the projector reaches its position', async () => {
    rm.log.append('definition-invoice-approval', {
      type: 'DefinitionPublished',
      data: { key: 'invoice-approval', version: 1, definition: invoiceApproval() },
    });
    rm.log.append('definition-invoice-approval', { type: 'DefinitionDeactivated', data: { key: 'invoice-approval' } });
    const waiting = models.waitForPosition(2, 60_000);
    let settled: boolean | undefined;
    void waiting.then((caughtUp) => (settled = caughtUp));

    models.projector.applyBatch(rm.log.events.slice(0, 1));
    await Promise.resolve();
    expect(settled).toBeUndefined();
    models.projector.applyBatch(rm.log.events.slice(1));
    await expect(waiting).resolves.toBe(true);
    expect(models.position()).toBe(2);
    await expect(models.waitForPosition(1, 0)).resolves.toBe(true);
  });

  it('gives up after the timeout when the read models do not catch up', async () => {
    jest.useFakeTimers();
    const waiting = models.waitForPosition(5, 2000);
    jest.advanceTimersByTime(1999);
    let settled: boolean | undefined;
    void waiting.then((caughtUp) => (settled = caughtUp));
    await Promise.resolve();
    expect(settled).toBeUndefined();
    jest.advanceTimersByTime(1);
    await expect(waiting).resolves.toBe(false);
  });
});

describe('readTogether', () => {
  it('reads one snapshot while another process commits between its queries', () => {
    const rm = new ReadModelFixture();
    const reader = ReadModelDb.open(rm.file('shared.sqlite'));
    const writer = new Database(reader.file);
    try {
      reader.sql.exec('CREATE TABLE t (n INTEGER)');
      reader.sql.exec('INSERT INTO t VALUES (1)');
      const count = () => (reader.sql.prepare('SELECT count(*) AS n FROM t').get() as { n: number }).n;
      const twoReads = () => {
        const first = count();
        writer.exec('INSERT INTO t VALUES (2)');
        return [first, count()];
      };
      // Statement by statement, the second read sees the other connection's commit.
      expect(twoReads()).toEqual([1, 2]);
      expect(readTogether(reader.sql, twoReads)).toEqual([2, 2]);
      expect(count()).toBe(3);
      expect(reader.sql.inTransaction).toBe(false);
    } finally {
      writer.close();
      reader.close();
      rm.dispose();
    }
  });
});

describe('read-model file: page size', () => {
  let rm: ReadModelFixture;
  beforeEach(() => {
    rm = new ReadModelFixture();
  });
  afterEach(() => rm.dispose());

  it('makes new files with 8 KiB pages and keeps the page size of a file written before', () => {
    const fresh = ReadModelDb.open(join(rm.dir, 'new.sqlite'));
    expect(fresh.sql.pragma('page_size', { simple: true })).toBe(8192);
    expect(READ_MODEL_PAGE_SIZE).toBe(8192);
    fresh.close();
    // A file made with 16 KiB pages, as the versions before this one wrote them.
    const older = join(rm.dir, 'older.sqlite');
    const first = ReadModelDb.open(older);
    first.sql.pragma('journal_mode = DELETE');
    first.sql.pragma('page_size = 16384');
    first.sql.exec('VACUUM');
    expect(first.sql.pragma('page_size', { simple: true })).toBe(16384);
    first.close();
    const reopened = ReadModelDb.open(older);
    try {
      expect(reopened.sql.pragma('page_size', { simple: true })).toBe(16384);
      const projector = new Projector(reopened, allProjections());
      rm.log.append('definition-invoice-approval', {
        type: 'DefinitionPublished',
        data: { key: 'invoice-approval', version: 1, definition: invoiceApproval() },
      });
      projector.applyBatch(rm.log.events);
      expect(listDefinitions(reopened.sql).map((d) => d.key)).toEqual(['invoice-approval']);
    } finally {
      reopened.close();
    }
  });
});
