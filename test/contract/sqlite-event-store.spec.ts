import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteEventStore } from '../../libs/event-store/src/sqlite/sqlite-event-store';
import type { StoredEvent } from '../../libs/event-store/src/event-store';
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
      expect(db.prepare('SELECT version FROM schema_version').all()).toEqual([{ version: 2 }]);
    } finally {
      db.close();
    }
  });

  it('close stops live subscriptions and refuses further calls', async () => {
    const store = SqliteEventStore.open(file, { pollIntervalMs: 20 });
    const subscription = store.subscribe(async () => undefined, { fromPosition: await store.headPosition() });
    await store.close();
    expect(await subscription.caughtUpTo(Number.MAX_SAFE_INTEGER, 1000)).toBe(false);
    await expect(store.headPosition()).rejects.toMatchObject({ code: 'STORE.CLOSED' });
  });
});
