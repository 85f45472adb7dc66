import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { constants, tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteEventStore } from '@lifeline/event-store';
import type { TaskViewer } from '@lifeline/read-models';
import { syntheticLog } from '@lifeline/read-models/testing';
import { answerAsOf } from './as-of-query';
import { AsOfPool } from './as-of-pool';
import { AsOfBusy, AsOfPoolClosed, AsOfQueueTimeout, AsOfTooLarge, AsOfWorkerFailed } from './errors';

/**
 * The as-of worker pool on a real SQLite file, with real worker threads. The workers run the
 * compiled worker from dist/ (see asOfWorkerFile): run `npm run build` before this suite.
 */

// Worker threads load their modules on start: seconds on a busy machine.
jest.setTimeout(60_000);

const auditor: TaskViewer = { user: 'eve', roles: ['auditor'], admin: false, everyone: true };

/** Timers the test fires itself: the queue timeout without sleeping. */
class ManualTimers {
  private readonly pending = new Map<number, () => void>();
  private serial = 0;
  set = (fire: () => void): unknown => {
    this.pending.set(++this.serial, fire);
    return this.serial;
  };
  clear = (handle: unknown): void => void this.pending.delete(handle as number);
  fireAll(): void {
    const due = [...this.pending.values()];
    this.pending.clear();
    for (const fire of due) fire();
  }
  get count(): number {
    return this.pending.size;
  }
}

describe('AsOfPool: as-of rebuilds on worker threads, bounded', () => {
  let dir: string;
  let file: string;
  let store: SqliteEventStore;
  let head: number;
  const pools: AsOfPool[] = [];
  const pool = (options: Partial<ConstructorParameters<typeof AsOfPool>[0]> = {}) => {
    const made = new AsOfPool({ store: { kind: 'sqlite', file }, ...options });
    pools.push(made);
    return made;
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'lifeline-as-of-pool-'));
    file = join(dir, 'events.db');
    store = SqliteEventStore.open(file);
    const log = syntheticLog(6_000, 11);
    for (let i = 0; i < log.events.length; i += 1000) {
      await store.appendMany(
        log.events.slice(i, i + 1000).map((e) => ({
          streamId: e.streamId,
          expectedRevision: 'any' as const,
          events: [{ id: e.id, type: e.type, data: e.data, metadata: e.metadata }],
        })),
      );
    }
    head = await store.headPosition();
  });
  afterEach(async () => {
    await Promise.all(pools.splice(0).map((p) => p.close()));
  });
  afterAll(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers what the rebuild in the calling thread answers, for the task list and for an instance', async () => {
    const asOf = { kind: 'position' as const, position: Math.floor(head / 2) };
    const filter = { status: 'all' as const, limit: 500 };
    const expected = await answerAsOf(store, asOf, { kind: 'tasks', viewer: auditor, filter });
    const answered = await pool().tasks(asOf, auditor, filter);
    expect(answered).toEqual(expected);
    expect(answered.items.length).toBeGreaterThan(100);
    expect(answered.position).toBeLessThanOrEqual(asOf.position);

    const instanceId = answered.items[0]!.instanceId;
    expect(await pool().instance(asOf, instanceId)).toEqual(
      await answerAsOf(store, asOf, { kind: 'instance', instanceId }),
    );
    expect((await pool().instance({ kind: 'position', position: 1 }, instanceId)).instance).toBeNull();
  });

  /** How many turns the event loop made while `work` ran. */
  async function loopTurnsDuring(work: () => Promise<unknown>): Promise<number> {
    let turns = 0;
    let handle = setImmediate(function spin() {
      turns += 1;
      handle = setImmediate(spin);
    });
    try {
      await work();
    } finally {
      clearImmediate(handle);
    }
    return turns;
  }

  it('the event loop keeps turning while a worker rebuilds (in the calling thread it would not)', async () => {
    const asOf = { kind: 'position' as const, position: head };
    expect(await loopTurnsDuring(() => pool().tasks(asOf, auditor, {}))).toBeGreaterThan(10);
    // The same rebuild in this thread: a synchronous store resolves every await at once, nothing else runs.
    expect(await loopTurnsDuring(() => answerAsOf(store, asOf, { kind: 'tasks', viewer: auditor, filter: {} }))).toBe(
      0,
    );
  });

  (process.platform === 'linux' ? it : it.skip)(
    'on Linux the worker thread runs below normal priority, the server thread at its own',
    async () => {
      await pool().tasks({ kind: 'position', position: 1 }, auditor, {});
      const niceOf = (task: string) =>
        Number(readFileSync(`/proc/self/task/${task}/stat`, 'utf8').split(') ')[1]!.split(' ')[16]);
      const below = constants.priority.PRIORITY_BELOW_NORMAL;
      expect(
        readdirSync('/proc/self/task')
          .map(niceOf)
          .filter((n) => n === below),
      ).toHaveLength(1);
      expect(niceOf(String(process.pid))).toBeLessThan(below);
    },
  );

  it('a worker refusing a rebuild above the bound yields the documented AsOfTooLarge', async () => {
    const refusal = await pool({ maxEvents: 100 })
      .tasks({ kind: 'position', position: head }, auditor, {})
      .catch((e: unknown) => e);
    expect(refusal).toBeInstanceOf(AsOfTooLarge);
    expect(refusal).toMatchObject({ code: 'AUDIT.AS_OF_TOO_LARGE', details: { limit: 100 } });
    // Counted batch by batch (5,000 events), so the count is past the limit, not limit + 1.
    expect((refusal as AsOfTooLarge).events).toBeGreaterThan(100);
  });

  it('runs at most `workers` at once, queues at most `queue`, and refuses the next with AUDIT.BUSY and a retry delay', async () => {
    const small = pool({ workers: 1, queue: 1 });
    const asOf = { kind: 'position' as const, position: head };
    const first = small.tasks(asOf, auditor, {});
    const second = small.tasks(asOf, auditor, {});
    const third = small.tasks(asOf, auditor, {}).catch((e: unknown) => e);
    expect(small.stats()).toEqual({ workers: 1, running: 1, waiting: 1 });
    const busy = await third;
    expect(busy).toBeInstanceOf(AsOfBusy);
    expect((busy as AsOfBusy).code).toBe('AUDIT.BUSY');
    expect((busy as AsOfBusy).retryAfterSeconds).toBeGreaterThanOrEqual(1);
    // The queued one runs once the first is done, on the same worker.
    const [a, b] = await Promise.all([first, second]);
    expect(b).toEqual(a);
    expect(small.stats()).toEqual({ workers: 1, running: 0, waiting: 0 });
  });

  it('a query that waits in the queue past the timeout fails with AUDIT.AS_OF_TIMEOUT, not a hang', async () => {
    const timers = new ManualTimers();
    const small = pool({ workers: 1, queue: 4, queueTimeoutMs: 5_000, timers });
    const asOf = { kind: 'position' as const, position: head };
    const running = small.tasks(asOf, auditor, {});
    const waiting = small.tasks(asOf, auditor, {}).catch((e: unknown) => e);
    expect(timers.count).toBe(1);
    timers.fireAll();
    const timedOut = await waiting;
    expect(timedOut).toBeInstanceOf(AsOfQueueTimeout);
    expect(timedOut).toMatchObject({ code: 'AUDIT.AS_OF_TIMEOUT' });
    expect(small.stats().waiting).toBe(0);
    await expect(running).resolves.toMatchObject({ kind: 'tasks' });
  });

  it('close stops the workers: what runs or waits is refused with AUDIT.AS_OF_CLOSED, and so is what comes after', async () => {
    const closing = pool({ workers: 1, queue: 2 });
    const asOf = { kind: 'position' as const, position: head };
    const running = closing.tasks(asOf, auditor, {}).catch((e: unknown) => e);
    const waiting = closing.tasks(asOf, auditor, {}).catch((e: unknown) => e);
    await closing.close();
    expect(await running).toBeInstanceOf(AsOfPoolClosed);
    expect(await waiting).toBeInstanceOf(AsOfPoolClosed);
    expect(closing.stats()).toEqual({ workers: 0, running: 0, waiting: 0 });
    await expect(closing.tasks(asOf, auditor, {})).rejects.toMatchObject({ code: 'AUDIT.AS_OF_CLOSED' });
  });

  it('a worker that dies fails its query with AUDIT.AS_OF_FAILED, and the pool goes on with a new worker', async () => {
    const dying = join(dir, 'dying-worker.js');
    writeFileSync(dying, "require('node:worker_threads').parentPort.on('message', () => process.exit(3));\n");
    const broken = pool({ workers: 1, workerFile: dying });
    const failed = await broken.tasks({ kind: 'position', position: head }, auditor, {}).catch((e: unknown) => e);
    expect(failed).toBeInstanceOf(AsOfWorkerFailed);
    expect((failed as AsOfWorkerFailed).message).toContain('exit code 3');
    expect(broken.stats().workers).toBe(0);
    await expect(broken.tasks({ kind: 'position', position: head }, auditor, {})).rejects.toBeInstanceOf(
      AsOfWorkerFailed,
    );
  });

  it('a store the worker cannot open fails the query with a clear error, not a hang', async () => {
    const missing = new AsOfPool({ store: { kind: 'sqlite', file: join(dir, 'missing.db') } });
    pools.push(missing);
    const failed = await missing.tasks({ kind: 'position', position: 1 }, auditor, {}).catch((e: unknown) => e);
    expect(failed).toBeInstanceOf(AsOfWorkerFailed);
    expect((failed as Error).message).toMatch(/missing\.db|unable to open/i);
  });
});
