import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import pg from 'pg';
import { describePostgres, dropTestSchema, uniqueTestSchema } from '../testing/postgres';
import { PostgresEventStore } from './postgres-event-store';

/** The holder runs in a process of its own, from the build (npm test builds first). */
const BUILT_STORE = resolve(__dirname, '../../../../dist/libs/event-store/src/postgres/postgres-event-store.js');

/**
 * What PostgreSQL's leases do besides the partitioned-store contract (test/contract): they end with the session,
 * at once, so a dead holder's partitions need no lease time to run out.
 */
describePostgres('PostgreSQL partition leases: a lease lasts as long as its session', (url) => {
  const schema = uniqueTestSchema('leases');
  const stores: PostgresEventStore[] = [];
  const open = async () => {
    const store = await PostgresEventStore.connect(url, { schema, pollIntervalMs: 20 });
    stores.push(store);
    return store;
  };

  afterAll(async () => {
    for (const store of stores) await store.close();
    await dropTestSchema(url, schema);
  });

  it('a SIGKILLed holder frees its partitions at once: its session ends with it', async () => {
    if (!existsSync(BUILT_STORE)) throw new Error(`Build first (npm run build): ${BUILT_STORE} is missing`);
    const child = spawn(
      process.execPath,
      [
        '-e',
        `const { PostgresEventStore } = require(${JSON.stringify(BUILT_STORE)});
         (async () => {
           const store = await PostgresEventStore.connect(${JSON.stringify(url)}, { schema: ${JSON.stringify(schema)} });
           await store.partitionLeases.tryAcquire(7, 'doomed');
           process.stdout.write('held\\n');
           setInterval(() => {}, 1000);
         })();`,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    await new Promise<void>((resolve, reject) => {
      child.stdout!.on('data', (chunk: Buffer) => (chunk.toString().includes('held') ? resolve() : undefined));
      child.once('exit', (code) => reject(new Error(`the holder exited early (${code})`)));
    });
    const b = await open();
    expect(await b.partitionLeases.tryAcquire(7, 'b')).toBeUndefined();
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
    let lease;
    const deadline = Date.now() + 5_000;
    while (!(lease = await b.partitionLeases.tryAcquire(7, 'b')) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(lease?.partition).toBe(7);
    await b.partitionLeases.release(7);
  }, 30_000);

  it('a lost leases session is reported, and the partitions are free for others', async () => {
    const a = await open();
    const b = await open();
    const lost = new Promise<unknown>((resolve) => a.partitionLeases.onLost(resolve));
    await a.partitionLeases.tryAcquire(9, 'a');
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    // The server ends A's leases session (as a network cut or a restart would).
    await admin.query(
      `SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND objid = 9 AND granted
         AND pid <> pg_backend_pid()`,
    );
    await admin.end();
    await lost;
    expect(a.partitionLeases.heldPartitions()).toEqual([]);
    expect((await b.partitionLeases.tryAcquire(9, 'b'))?.partition).toBe(9);
    await b.partitionLeases.release(9);
  });
});
