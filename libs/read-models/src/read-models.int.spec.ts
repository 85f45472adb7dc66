import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { SqliteEventStore, type StoredEvent } from '@lifeline/event-store';
import { ReadModelCatchingUp, ReadModels } from './read-models';
import { entityTimeline } from './entity-timeline/entity-timeline.queries';
import { syntheticLog } from './testing/event-log';
import { allProjections, VIEW_NAMES } from './projections';
import type { Projection } from './read-model-db';
import { appendToStore } from './testing/append-log';

/** A record the synthetic log wrote to, for a timeline query. */
function someRecord(events: StoredEvent[]): { type: string; id: string } {
  const started = events.find((e) => e.type === 'InstanceStarted')!;
  return (started.data as { entity: { type: string; id: string } }).entity;
}

describe('read models at start-up', () => {
  let dir: string;
  let store: SqliteEventStore;
  const file = () => join(dir, 'read-models.sqlite');
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'lifeline-read-models-'));
    store = SqliteEventStore.open(join(dir, 'events.sqlite'), { pollIntervalMs: 10 });
  });
  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('reports a view whose layout changed as catching up, refuses its queries, and serves it once rebuilt', async () => {
    const log = syntheticLog(3000, 5);
    await appendToStore(store, log.events);
    const first = ReadModels.open(file());
    await first.start(store);
    // Nothing was behind the log's head by the time start returned: a normal start serves every view.
    expect(first.catchingUp()).toEqual([]);
    const record = someRecord(log.events);
    const timeline = entityTimeline(first.db, record.type, record.id, { limit: 1000 });
    expect(timeline.length).toBeGreaterThan(0);
    await first.close();

    // What an upgrade that changes the timeline's layout finds: its checkpoint written by another version.
    const raw = new Database(file());
    raw.prepare("UPDATE projections_checkpoint SET version = version + 1 WHERE name = 'entity-timeline'").run();
    raw.close();

    const models = ReadModels.open(file(), { batchSize: 20, startCatchUpWaitMs: 0 });
    try {
      await models.start(store);
      const behind = models.catchingUp();
      expect(behind).toHaveLength(1);
      expect(behind[0]).toMatchObject({ view: 'entity-timeline', target: 3000 });
      expect(behind[0]!.position).toBeLessThan(3000);
      // Its queries are refused with where it is; the views that kept their layout are served.
      let refused: unknown;
      try {
        models.assertServed('task-list', 'entity-timeline');
      } catch (error) {
        refused = error;
      }
      expect(refused).toBeInstanceOf(ReadModelCatchingUp);
      expect(refused).toMatchObject({
        code: 'READ_MODEL.CATCHING_UP',
        retryAfterSeconds: 2,
        views: [{ view: 'entity-timeline', target: 3000 }],
      });
      expect(() => models.assertServed('task-list', 'instances', 'process-grid')).not.toThrow();

      await expect(models.waitForPosition(3000, 10_000)).resolves.toBe(true);
      expect(models.catchingUp()).toEqual([]);
      expect(() => models.assertServed('entity-timeline')).not.toThrow();
      expect(entityTimeline(models.db, record.type, record.id, { limit: 1000 })).toEqual(timeline);

      // Served once caught up: later events the view has not applied yet are lag, not a rebuild.
      await appendToStore(store, syntheticLog(3100, 5).events.slice(3000));
      expect(models.catchingUp()).toEqual([]);
      await expect(models.waitForPosition(3100, 10_000)).resolves.toBe(true);
    } finally {
      await models.close();
    }
  });

  it('keeps the other views live while one is rebuilt: the write path applies to them, and their waits do not wait for it', async () => {
    const log = syntheticLog(3010, 6);
    await appendToStore(store, log.events.slice(0, 3000));
    const first = ReadModels.open(file());
    await first.start(store);
    await first.close();
    const raw = new Database(file());
    raw.prepare("UPDATE projections_checkpoint SET version = version + 1 WHERE name = 'entity-timeline'").run();
    raw.close();

    // The timeline's rebuild takes at least 1.5 s (0.5 ms an event), so the write below surely lands while it runs.
    const projections = allProjections().map((p): Projection =>
      p.name !== 'entity-timeline'
        ? p
        : {
            ...p,
            apply(db, event, decoded) {
              for (const started = performance.now(); performance.now() - started < 0.5;);
              p.apply(db, event, decoded);
            },
          },
    );
    const models = ReadModels.open(file(), { batchSize: 20, startCatchUpWaitMs: 0, projections });
    // As the API wires the write path: what this process commits is applied before its callers are answered.
    store.onCommitted((events) => models.applyCommitted(events));
    try {
      await models.start(store);
      await appendToStore(store, log.events.slice(3000));
      // Applied inline to every view but the one being rebuilt, which has not got there yet.
      expect(models.positionOf(['task-list', 'instances', 'process-grid', 'jobs'])).toBe(3010);
      expect(models.positionOf(['entity-timeline'])).toBeLessThan(3000);
      expect(models.position()).toBe(models.positionOf(['entity-timeline']));
      await expect(models.waitForPosition(3010, 50, ['task-list'])).resolves.toBe(true);
      await expect(models.waitForPosition(3010, 0, ['task-list', 'entity-timeline'])).resolves.toBe(false);
      expect(models.catchingUp().map((v) => v.view)).toEqual(['entity-timeline']);

      // The rebuilt view gets the later events too, in order, from its own catch-up.
      await expect(models.waitForPosition(3010, 10_000, ['entity-timeline'])).resolves.toBe(true);
      expect(models.catchingUp()).toEqual([]);
      const rebuilt = new Database(file(), { readonly: true });
      try {
        const rows = rebuilt.prepare('SELECT COUNT(*) AS n, MAX(position) AS last FROM timeline').get();
        const fresh = ReadModels.open(join(dir, 'fresh.sqlite'));
        await fresh.start(store);
        const expected = fresh.db.prepare('SELECT COUNT(*) AS n, MAX(position) AS last FROM timeline').get();
        await fresh.close();
        expect(rows).toEqual(expected);
      } finally {
        rebuilt.close();
      }
    } finally {
      await models.close();
    }
  });

  it('reports every view of a new file for a log that already has events, and waits for a short catch-up', async () => {
    const log = syntheticLog(3000, 9);
    await appendToStore(store, log.events);
    const models = ReadModels.open(file(), { startCatchUpWaitMs: 5_000 });
    try {
      await models.start(store);
      // 3,000 events are applied within the wait: start returns with every view served.
      expect(models.position()).toBe(3000);
      expect(models.catchingUp()).toEqual([]);
    } finally {
      await models.close();
    }

    for (const suffix of ['', '-wal', '-shm']) rmSync(file() + suffix, { force: true });
    const rebuilding = ReadModels.open(file(), { batchSize: 10, startCatchUpWaitMs: 0 });
    try {
      await rebuilding.start(store);
      expect(rebuilding.catchingUp().map((v) => v.view)).toEqual(
        expect.arrayContaining(['task-list', 'process-grid', 'instances', 'entity-timeline', 'jobs']),
      );
      await expect(rebuilding.waitForPosition(3000, 10_000)).resolves.toBe(true);
      expect(rebuilding.catchingUp()).toEqual([]);
    } finally {
      await rebuilding.close();
    }
  });

  it('names every read model it serves in VIEW_NAMES, the names queries give', () => {
    expect(allProjections().map((p) => p.name)).toEqual([...VIEW_NAMES]);
  });

  it('serves an empty log at once', async () => {
    const models = ReadModels.open(file(), { startCatchUpWaitMs: 0 });
    try {
      await models.start(store);
      expect(models.catchingUp()).toEqual([]);
      expect(() => models.assertServed('task-list', 'entity-timeline')).not.toThrow();
    } finally {
      await models.close();
    }
  });
});
