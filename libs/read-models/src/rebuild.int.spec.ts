import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteEventStore } from '@lifeline/event-store';
import { getTask } from './task-list/task-list.queries';
import { ReadModels } from './read-models';
import { rebuildReadModels } from './rebuild';
import { Projector, ReadModelDb, type Sql } from './read-model-db';
import { allProjections } from './projections';
import { syntheticLog } from './testing/event-log';
import { appendToStore } from './testing/append-log';

/** Every row of every table, so two files can be compared whole. */
function dump(sql: Sql): Record<string, unknown[]> {
  const tables = sql
    .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
    .all() as { name: string }[];
  return Object.fromEntries(
    tables.map(({ name }) => {
      const columns = (sql.pragma(`table_info("${name}")`) as { cid: number }[]).map((c) => c.cid + 1);
      return [name, sql.prepare(`SELECT * FROM "${name}" ORDER BY ${columns.join(', ')}`).all()];
    }),
  );
}

describe('rebuild', () => {
  let dir: string;
  let store: SqliteEventStore;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'lifeline-rebuild-'));
    store = SqliteEventStore.open(join(dir, 'events.sqlite'), { pollIntervalMs: 10 });
  });
  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('rebuilds the same rows the live projector built in many small batches', async () => {
    const log = syntheticLog(4000, 7);
    await appendToStore(store, log.events);

    const live = ReadModelDb.open(join(dir, 'live.sqlite'));
    const projector = new Projector(live, allProjections());
    // Batches of 1 to 37 events, so batch edges fall everywhere.
    let from = 0;
    for (let size = 1; from < 4000; size = (size % 37) + 1) {
      const batch = await store.readAll(from, size);
      projector.applyBatch(batch);
      from = batch.at(-1)!.position;
    }

    const progress: Array<[number, number]> = [];
    const result = await rebuildReadModels(
      store,
      join(dir, 'rebuilt.sqlite'),
      (done, total) => progress.push([done, total]),
      {
        batchSize: 1000,
      },
    );
    expect(result).toMatchObject({ position: 4000, events: 4000 });
    expect(progress).toEqual([
      [1000, 4000],
      [2000, 4000],
      [3000, 4000],
      [4000, 4000],
    ]);
    expect(existsSync(join(dir, 'rebuilt.sqlite.building'))).toBe(false);

    const rebuilt = ReadModelDb.open(join(dir, 'rebuilt.sqlite'));
    const liveRows = dump(live.sql);
    expect(liveRows.tasks!.length).toBeGreaterThan(500);
    expect(dump(rebuilt.sql)).toEqual(liveRows);
    const indexes = (sql: Sql) =>
      sql.prepare("SELECT name, tbl_name FROM sqlite_master WHERE type = 'index' ORDER BY name").all();
    expect(indexes(rebuilt.sql)).toEqual(indexes(live.sql));
    expect(indexes(live.sql)).toContainEqual({ name: 'tasks_by_assignee', tbl_name: 'tasks' });
    expect(rebuilt.sql.pragma('journal_mode', { simple: true })).toBe('wal');
    rebuilt.close();
    live.close();
  });

  it('switches the served file to a rebuilt one that catches up with the log', async () => {
    const log = syntheticLog(600, 3);
    await appendToStore(store, log.events.slice(0, 400));
    const models = ReadModels.open(join(dir, 'served-1.sqlite'), { batchSize: 50 });
    try {
      await models.start(store);
      await expect(models.waitForPosition(400, 5000)).resolves.toBe(true);

      await rebuildReadModels(store, join(dir, 'served-2.sqlite'));
      // Appended after the rebuild read the log: the switch must catch these up first.
      await appendToStore(store, log.events.slice(400));
      const oldDb = models.db;
      await models.switchTo(join(dir, 'served-2.sqlite'));

      expect(models.file).toBe(join(dir, 'served-2.sqlite'));
      expect(oldDb.open).toBe(false);
      expect(models.position()).toBe(600);
      const lastTask = [...log.events].reverse().find((e) => e.type === 'TaskCreated')!;
      expect(getTask(models.db, (lastTask.data as { taskId: string }).taskId)).toBeDefined();

      // The new file stays live.
      const more = syntheticLog(700, 3).events.slice(600);
      await appendToStore(store, more);
      await expect(models.waitForPosition(700, 5000)).resolves.toBe(true);
    } finally {
      await models.close();
    }
  });
});
