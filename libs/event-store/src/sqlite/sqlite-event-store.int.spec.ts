import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import type { NewEvent, StoreTx } from '../event-store';
import { verifyStream } from '../hash-chain';
import { PAGE_SIZE, SqliteEventStore } from './sqlite-event-store';

const newEvent = (type: string): NewEvent => ({
  id: randomUUID(),
  type,
  data: { n: 1 },
  metadata: { correlationId: 'c', causationId: 'c', actor: 'alice', at: '2026-11-21T10:00:00.000Z' },
});

describe('SqliteEventStore: units of work on a real file', () => {
  let dir: string;
  let store: SqliteEventStore;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'lifeline-sqlite-units-'));
    store = SqliteEventStore.open(join(dir, 'events.db'));
    store.sidecar.exec('CREATE TABLE side (v TEXT NOT NULL)');
  });

  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** A unit that writes a sidecar row and appends one event, then throws if asked to. */
  const unit = (name: string, fail = false) =>
    store.unitOfWork(async (tx: StoreTx) => {
      store.sidecar.prepare('INSERT INTO side (v) VALUES (?)').run(name);
      const result = await tx.append({
        streamId: `s-${name}`,
        events: [newEvent(name)],
        expectedRevision: 'no-stream',
      });
      if (fail) throw new Error(`${name} fails`);
      return result;
    });

  const sideRows = () => store.sidecar.prepare('SELECT v FROM side ORDER BY rowid').pluck().all();
  const links = async () => (await store.readLogLinks(0, 100)).map((l) => [l.position, l.prevPosition]);

  it('a unit alone in its commit that throws leaves neither events nor sidecar rows, and the next takes its position', async () => {
    await unit('a');
    await expect(unit('b', true)).rejects.toThrow('b fails');
    const c = await unit('c');
    expect(c.position).toBe(2);
    expect(sideRows()).toEqual(['a', 'c']);
    expect((await store.readAll(0, 10)).map((e) => e.type)).toEqual(['a', 'c']);
    expect(await links()).toEqual([
      [1, 0],
      [2, 1],
    ]);
  });

  it('in one commit, a failing first unit rolls back alone and the units after it commit', async () => {
    const outcomes = await Promise.allSettled([unit('a', true), unit('b'), unit('c', true), unit('d')]);
    expect(outcomes.map((o) => o.status)).toEqual(['rejected', 'fulfilled', 'rejected', 'fulfilled']);
    expect(sideRows()).toEqual(['b', 'd']);
    expect((await store.readAll(0, 10)).map((e) => [e.type, e.position])).toEqual([
      ['b', 1],
      ['d', 2],
    ]);
    expect(await links()).toEqual([
      [1, 0],
      [2, 1],
    ]);
  });

  it('in one commit, a failing unit after a committed one is undone alone (its savepoint)', async () => {
    const outcomes = await Promise.allSettled([unit('a'), unit('b', true), unit('c')]);
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(sideRows()).toEqual(['a', 'c']);
    expect((await store.readAll(0, 10)).map((e) => [e.type, e.position])).toEqual([
      ['a', 1],
      ['c', 2],
    ]);
    expect(await links()).toEqual([
      [1, 0],
      [2, 1],
    ]);
  });

  it('a backlog of units commits in turns of its time budget, and the event loop runs between two commits', async () => {
    const budgeted = SqliteEventStore.open(join(dir, 'budgeted.db'), { commitBudgetMs: 5 });
    const commits: string[][] = [];
    budgeted.onCommitted((events) => commits.push(events.map((e) => e.type)));
    const ran: string[] = [];
    /** A unit that keeps the event loop busy for 3 ms, as a cold or large post does. */
    const busy = (name: string) =>
      budgeted.unitOfWork(async (tx: StoreTx) => {
        ran.push(name);
        const until = performance.now() + 3;
        while (performance.now() < until);
        return tx.append({ streamId: `s-${name}`, events: [newEvent(name)], expectedRevision: 'no-stream' });
      });
    try {
      const names = ['a', 'b', 'c', 'd', 'e', 'f'];
      const all = Promise.all(names.map(busy));
      // A request that arrives meanwhile (a /health probe): its turn comes after the first commit, not after all.
      setImmediate(() => ran.push('turn'));
      expect((await all).map((r) => r.position)).toEqual([1, 2, 3, 4, 5, 6]);
      expect(commits.flat()).toEqual(names);
      for (const commit of commits) expect(commit.length).toBeLessThanOrEqual(2);
      expect(ran.indexOf('turn')).toBeGreaterThan(0);
      expect(ran.indexOf('turn')).toBeLessThan(ran.indexOf('f'));
    } finally {
      await budgeted.close();
    }
  });

  it('an append whose later event cannot be stored writes none of its events, even when the unit goes on and commits', async () => {
    await store.unitOfWork(async (tx: StoreTx) => {
      const unstorable: NewEvent = { ...newEvent('B'), data: { amount: 10n } };
      await expect(
        tx.append({ streamId: 's-half', events: [newEvent('A'), unstorable], expectedRevision: 'no-stream' }),
      ).rejects.toThrow('bigint');
      await tx.append({ streamId: 's-after', events: [newEvent('C')], expectedRevision: 'no-stream' });
    });
    expect((await store.readAll(0, 10)).map((e) => [e.streamId, e.type, e.position])).toEqual([['s-after', 'C', 1]]);
    expect(await links()).toEqual([[1, 0]]);
  });

  it('keeps the savepoint journals of units and attempts in memory, not in a temp file per commit', () => {
    expect(store.sidecar.pragma('temp_store', { simple: true })).toBe(2);
  });

  it('keeps no row per stream: an append reads its stream head (revision, hash) from the last event', async () => {
    await Promise.allSettled([unit('a'), unit('b', true), unit('c')]);
    await store.append({ streamId: 's-a', events: [newEvent('a2'), newEvent('a3')], expectedRevision: 0 });
    expect(store.sidecar.prepare('SELECT COUNT(*) FROM streams').pluck().get()).toBe(0);
    await expect(
      store.append({ streamId: 's-a', events: [newEvent('stale')], expectedRevision: 1 }),
    ).rejects.toMatchObject({ code: 'STORE.WRONG_EXPECTED_REVISION' });
    const stream = await store.readStream('s-a');
    expect(stream.map((e) => [e.revision, e.type])).toEqual([
      [0, 'a'],
      [1, 'a2'],
      [2, 'a3'],
    ]);
    expect(verifyStream(stream)).toEqual({ ok: true });
  });

  it('an id already stored in another stream is a conflict whatever the expected revision, and a caught conflict takes no position', async () => {
    const taken = newEvent('a');
    await store.append({ streamId: 's-a', events: [taken], expectedRevision: 'no-stream' });
    for (const expectedRevision of ['no-stream', 'any', -1, 0] as const) {
      await expect(store.append({ streamId: 's-new', events: [{ ...taken }], expectedRevision })).rejects.toMatchObject(
        { code: 'STORE.EVENT_ID_CONFLICT', eventId: taken.id, streamId: 's-new' },
      );
    }
    await expect(
      store.append({ streamId: 's-new', events: [newEvent('x')], expectedRevision: 0 }),
    ).rejects.toMatchObject({ code: 'STORE.WRONG_EXPECTED_REVISION' });
    expect(await store.append({ streamId: 's-a', events: [{ ...taken }], expectedRevision: 'any' })).toEqual({
      duplicate: true,
      nextRevision: 0,
      position: 1,
    });
    // Caught inside its unit: the next append still follows the last written event.
    const next = await store.unitOfWork(async (tx) => {
      await expect(
        tx.append({ streamId: 's-new', events: [{ ...taken }], expectedRevision: 'no-stream' }),
      ).rejects.toMatchObject({ code: 'STORE.EVENT_ID_CONFLICT' });
      return tx.append({ streamId: 's-b', events: [newEvent('b')], expectedRevision: 'no-stream' });
    });
    expect(next.position).toBe(2);
    expect(await links()).toEqual([
      [1, 0],
      [2, 1],
    ]);
  });
});

describe('SqliteEventStore: page size', () => {
  it('makes new files with 8 KiB pages and keeps the page size of a file written before', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lifeline-sqlite-pages-'));
    try {
      const fresh = SqliteEventStore.open(join(dir, 'new.db'));
      expect(fresh.sidecar.pragma('page_size', { simple: true })).toBe(8192);
      expect(PAGE_SIZE).toBe(8192);
      await fresh.close();
      // A store file made with SQLite's default pages, as every version before this one wrote them.
      const older = join(dir, 'older.db');
      const first = SqliteEventStore.open(older);
      await first.close();
      const Database = (await import('better-sqlite3')).default;
      const rewrite = new Database(older);
      rewrite.pragma('journal_mode = DELETE');
      rewrite.pragma('page_size = 4096');
      rewrite.exec('VACUUM');
      expect(rewrite.pragma('page_size', { simple: true })).toBe(4096);
      rewrite.close();
      const reopened = SqliteEventStore.open(older);
      try {
        expect(reopened.sidecar.pragma('page_size', { simple: true })).toBe(4096);
        await reopened.append({ streamId: 's-1', events: [newEvent('A')], expectedRevision: 'no-stream' });
        expect((await reopened.readStream('s-1')).map((e) => e.type)).toEqual(['A']);
      } finally {
        await reopened.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('SqliteEventStore: a file of schema version 3 (a streams table beside the events)', () => {
  it('empties the streams table and goes on with each stream from its last event', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lifeline-sqlite-v3-'));
    const file = join(dir, 'events.db');
    try {
      const writer = SqliteEventStore.open(file);
      await writer.append({ streamId: 's-1', events: [newEvent('A'), newEvent('B')], expectedRevision: 'no-stream' });
      await writer.close();
      // The file as version 3 left it: a row per stream with its last revision and hash (NULL when written before the column).
      const Database = (await import('better-sqlite3')).default;
      const older = new Database(file);
      older.exec(`INSERT INTO streams (stream_id, revision, hash) VALUES ('s-1', 1, NULL);
        UPDATE schema_version SET version = 3;`);
      older.close();

      const reopened = SqliteEventStore.open(file);
      try {
        expect(reopened.sidecar.prepare('SELECT COUNT(*) FROM streams').pluck().get()).toBe(0);
        expect(reopened.sidecar.prepare('SELECT version FROM schema_version').pluck().get()).toBe(4);
        await expect(
          reopened.append({ streamId: 's-1', events: [newEvent('stale')], expectedRevision: 0 }),
        ).rejects.toMatchObject({ code: 'STORE.WRONG_EXPECTED_REVISION' });
        const next = await reopened.append({ streamId: 's-1', events: [newEvent('C')], expectedRevision: 1 });
        expect(next.nextRevision).toBe(2);
        const stream = await reopened.readStream('s-1');
        expect(stream.map((e) => e.type)).toEqual(['A', 'B', 'C']);
        expect(stream[2]!.metadata.prevHash).toBe(stream[1]!.metadata.hash);
        expect(verifyStream(stream)).toEqual({ ok: true });
      } finally {
        await reopened.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('SqliteEventStore: a long catch-up', () => {
  let dir: string;
  let store: SqliteEventStore;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'lifeline-sqlite-catch-up-'));
    store = SqliteEventStore.open(join(dir, 'events.db'));
  });
  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('lets timers and requests take turns while a subscription works through a backlog', async () => {
    await store.appendMany(
      Array.from({ length: 2000 }, (_, i) => ({
        streamId: `s-${i}`,
        events: [newEvent('Backlog')],
        expectedRevision: 'no-stream' as const,
      })),
    );
    const seen: string[] = [];
    let handled = 0;
    const subscription = await store.subscribe(
      async (events) => {
        // A handler as synchronous as the projector's: about a millisecond of work per batch of 10.
        for (const started = performance.now(); performance.now() - started < 1;);
        handled += events.length;
        if (handled === 2000) seen.push('caught up');
      },
      { fromPosition: 0, batchSize: 10 },
    );
    const timer = new Promise<void>((resolve) =>
      setTimeout(() => {
        seen.push(`timer after ${handled} events`);
        resolve();
      }, 0),
    );
    try {
      await expect(subscription.caughtUpTo(2000, 10_000)).resolves.toBe(true);
      await timer;
      // The timer ran while the backlog was being worked through, not after it.
      expect(seen).toHaveLength(2);
      expect(seen[1]).toBe('caught up');
      expect(seen[0]).toMatch(/^timer after \d+ events$/);
      expect(Number(/\d+/.exec(seen[0]!)![0])).toBeLessThan(2000);
    } finally {
      await subscription.stop();
    }
  });
});
