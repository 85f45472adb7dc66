import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  SqliteEventStore,
  type StoredEvent,
  currentChainHead,
  DerivedLogChain,
  logLinkHash,
} from '@lifeline/event-store';
import { eventStoreContract, newEvent } from './event-store.contract';

const dir = mkdtempSync(join(tmpdir(), 'lifeline-event-store-contract-'));
const file = join(dir, 'events.db');

// The temp dir outlives the contract's describe: the checks below use the same file.
afterAll(() => rmSync(dir, { recursive: true, force: true }));

eventStoreContract('SqliteEventStore (file in a temp dir)', async () =>
  SqliteEventStore.open(file, { pollIntervalMs: 20 }),
);

describe('SqliteEventStore — beyond the contract', () => {
  const stores: SqliteEventStore[] = [];
  afterEach(async () => {
    await Promise.all(stores.splice(0).map((s) => s.close()));
  });
  function openStore(): SqliteEventStore {
    const store = SqliteEventStore.open(file, { pollIntervalMs: 20 });
    stores.push(store);
    return store;
  }

  it('a subscription sees appends made through another connection to the same file (polling)', async () => {
    const reader = openStore();
    const writer = openStore();
    const start = await reader.headPosition();
    const delivered: StoredEvent[] = [];
    const subscription = reader.subscribe(async (events) => void delivered.push(...events), {
      fromPosition: start,
      prefixes: ['polled-'],
    });
    const result = await writer.append({
      streamId: `polled-${start}`,
      events: [newEvent('A')],
      expectedRevision: 'no-stream',
    });
    expect(await subscription.caughtUpTo(result.position, 5000)).toBe(true);
    expect(delivered.map((e) => e.position)).toEqual([result.position]);
    await subscription.stop();
  });

  it('records the schema version and migrates an existing file without touching its events', async () => {
    const store = openStore();
    const result = await store.append({ streamId: 'schema-check', events: [newEvent('A')], expectedRevision: 'any' });
    await store.close();
    const reopened = openStore();
    expect((await reopened.readStream('schema-check')).at(-1)?.position).toBe(result.position);
    const Database = (await import('better-sqlite3')).default;
    const db = new Database(file, { readonly: true });
    try {
      expect(db.prepare('SELECT version FROM schema_version').all()).toEqual([{ version: 4 }]);
    } finally {
      db.close();
    }
  });

  it('links every event to the previous event of the global log, across appends, appendMany and connections', async () => {
    const first = openStore();
    const second = openStore();
    const start = await first.headPosition();
    await first.append({ streamId: 'chain-a', events: [newEvent('A'), newEvent('B')], expectedRevision: 'any' });
    await second.append({ streamId: 'chain-b', events: [newEvent('C')], expectedRevision: 'any' });
    await first.appendMany([
      { streamId: 'chain-a', events: [newEvent('D')], expectedRevision: 'any' },
      { streamId: 'chain-c', events: [newEvent('E'), newEvent('F')], expectedRevision: 'any' },
    ]);
    const head = await first.headPosition();
    expect(head).toBe(start + 6);
    const events = await first.readAll(start, 100);
    const links = await second.readLogLinks(start, head);
    expect(links.map((l) => [l.position, l.prevPosition])).toEqual(
      events.map((e, i) => [e.position, i === 0 ? start : events[i - 1]!.position]),
    );
    // Each link hashes the previous link, both positions and the event's own hash.
    const [before] = start === 0 ? [] : await first.readLogLinks(start - 1, start);
    let prevHash = before?.hash ?? '';
    links.forEach((link, i) => {
      expect(link.hash).toBe(logLinkHash(prevHash, link.position, link.prevPosition, events[i]!.metadata.hash!));
      prevHash = link.hash;
    });
    expect(await first.logHead()).toEqual({ position: head, hash: prevHash });
    expect(await first.countEvents(start, head)).toBe(6);
  });

  it('a rolled-back append takes no position and leaves the chain unbroken', async () => {
    const store = openStore();
    const start = await store.headPosition();
    const taken = newEvent('Taken');
    await store.append({ streamId: 'rollback-a', events: [taken], expectedRevision: 'any' });
    // The second request reuses an id of another stream: the whole transaction rolls back.
    await expect(
      store.appendMany([
        { streamId: 'rollback-b', events: [newEvent('X')], expectedRevision: 'any' },
        {
          streamId: 'rollback-c',
          events: [newEvent('Y'), { ...newEvent('Z'), id: taken.id }],
          expectedRevision: 'any',
        },
      ]),
    ).rejects.toMatchObject({ code: 'STORE.EVENT_ID_CONFLICT' });
    const next = await store.append({ streamId: 'rollback-b', events: [newEvent('X')], expectedRevision: 'no-stream' });
    expect(next.position).toBe(start + 2);
    expect((await store.readLogLinks(start + 1, start + 2)).map((l) => [l.position, l.prevPosition])).toEqual([
      [start + 2, start + 1],
    ]);
  });

  it('the chain derived by reading the log (as for EventStoreDB) is the stored chain of a store chained from its start', async () => {
    const store = openStore();
    await store.append({ streamId: 'derived-a', events: [newEvent('A'), newEvent('B')], expectedRevision: 'any' });
    const stored = await currentChainHead(store);
    const derived = await new DerivedLogChain().advance(store, 3);
    expect(derived).toEqual(stored);
    expect(stored).toMatchObject({ position: await store.headPosition(), eventCount: await store.headPosition() });
  });

  it('a read-only connection (an as-of worker) reads what the writer appends and cannot append', async () => {
    const writer = openStore();
    const reader = SqliteEventStore.open(file, { readonly: true });
    stores.push(reader);
    const result = await writer.append({
      streamId: 'read-only-check',
      events: [newEvent('A')],
      expectedRevision: 'any',
    });
    expect(await reader.headPosition()).toBe(result.position);
    expect((await reader.readAll(result.position - 1, 10)).map((e) => e.streamId)).toEqual(['read-only-check']);
    await expect(
      reader.append({ streamId: 'read-only-check', events: [newEvent('B')], expectedRevision: 'any' }),
    ).rejects.toMatchObject({ code: 'SQLITE_READONLY' });
    expect(() => SqliteEventStore.open(join(dir, 'missing.db'), { readonly: true })).toThrow();
  });

  it('close stops live subscriptions and refuses further calls', async () => {
    const store = SqliteEventStore.open(file, { pollIntervalMs: 20 });
    const subscription = store.subscribe(async () => undefined, { fromPosition: await store.headPosition() });
    await store.close();
    expect(await subscription.caughtUpTo(Number.MAX_SAFE_INTEGER, 1000)).toBe(false);
    await expect(store.headPosition()).rejects.toMatchObject({ code: 'STORE.CLOSED' });
  });
});
