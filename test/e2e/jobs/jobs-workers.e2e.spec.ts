import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { BuiltServer, type Answer } from '../built-server';

/**
 * The built server and three worker processes on the built client (libs/job-worker): 1,000 jobs, one worker
 * SIGKILLed while it holds locks. Every job is completed once, the dead worker's jobs are locked again by the
 * others after their lock ran out, and a job that fails three times raises an incident an operator retries.
 */

const JOBS = 1000;
const LOCK_MS = 2000;
const WORKER = join(__dirname, 'worker-process.cjs');
const ADMIN = { sub: 'admin', roles: ['admin'] };
const FAILING = 'R-0500';

const definition = {
  key: 'e2e-charge',
  name: 'Charge a record',
  relatedEntity: 'Charge',
  triggers: [{ on: 'created' }],
  start: 'charge',
  activities: {
    charge: {
      type: 'service',
      jobType: 'e2e-charge',
      retries: 3,
      inputs: { n: 'entity.n', mode: 'entity.mode' },
      next: 'done',
    },
    done: { type: 'end' },
  },
};

interface HistoryItem {
  type: string;
  at: string;
  data: { jobId?: string; workerId?: string; lockExpiresAt?: string };
}

describe('1,000 jobs served to three worker processes, one killed while it holds locks', () => {
  let server: BuiltServer;
  const workers: ChildProcess[] = [];
  beforeAll(async () => {
    server = await BuiltServer.start();
  });
  afterAll(async () => {
    for (const worker of workers) if (worker.exitCode === null && worker.signalCode === null) worker.kill('SIGKILL');
    await server?.stop();
  });

  const startWorker = (workerId: string, env: Record<string, string> = {}) => {
    const child = spawn(process.execPath, [WORKER], {
      env: {
        ...process.env,
        LIFELINE_URL: server.url,
        LIFELINE_TOKEN: server.token(workerId, ['worker']),
        WORKER_ID: workerId,
        LOCK_MS: String(LOCK_MS),
        ...env,
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    workers.push(child);
    return child;
  };
  const admin = (method: string, path: string, body?: unknown) => server.call(ADMIN, method, path, body);
  /** Every page of a list. */
  const all = async <T>(path: string): Promise<T[]> => {
    const items: T[] = [];
    for (let offset = 0; ; offset += 500) {
      const page = await admin('GET', `${path}${path.includes('?') ? '&' : '?'}limit=500&offset=${offset}`);
      expect(page.status).toBe(200);
      items.push(...(page.body.items as T[]));
      if (page.body.items.length < 500) return items;
    }
  };
  const until = (ask: () => Promise<Answer>, done: (a: Answer) => boolean) => server.until(ask, done, 600);

  it('completes every job once; the killed worker’s jobs go to the others after their lock; an exhausted job is retried by an operator', async () => {
    expect((await admin('POST', '/definitions', definition)).status).toBe(201);
    const a = startWorker('worker-a');
    const b = startWorker('worker-b');
    const victim = startWorker('worker-victim', { HOLD_AFTER: '20' });
    const held = new Set<string>();
    const holding = new Promise<void>((enough) => {
      createInterface({ input: victim.stdout! }).on('line', (line) => {
        const [word, jobId] = line.split(' ');
        if (word === 'holding' && jobId) held.add(jobId);
        if (held.size >= 10) enough();
      });
    });
    for (const worker of [a, b]) worker.stdout?.resume();

    for (let from = 0; from < JOBS; from += 250) {
      const batch = Array.from({ length: 250 }, (_, i) => {
        const id = `R-${String(from + i).padStart(4, '0')}`;
        return {
          id: `charge-${id}`,
          entityType: 'Charge',
          entityId: id,
          kind: 'created',
          occurredAt: '2026-11-30T08:00:00Z',
          data: { n: from + i, mode: id === FAILING ? 'fail' : 'ok' },
        };
      });
      expect((await server.call({ sub: 'app', roles: ['ingest'] }, 'POST', '/entity-events', batch)).status).toBe(202);
    }

    await holding;
    victim.kill('SIGKILL');
    await new Promise((exited) => victim.once('exit', exited));
    const heldAtKill = [...held];

    // The failing record's job fails three times (no backoff): an incident, shown in the operators' list.
    const incident = await until(
      () => admin('GET', '/jobs?incident=open'),
      (answer) => answer.body.items?.length === 1,
    );
    const [failed] = incident.body.items;
    expect(failed).toMatchObject({
      entity: { type: 'Charge', id: FAILING },
      state: 'failed',
      retries: 0,
      lastError: 'the card gateway refuses this card',
      incident: { open: true },
    });
    expect((await admin('POST', `/jobs/${failed.jobId}/retry`)).status).toBe(200);

    const completed = await until(
      () => admin('GET', '/instances?definition=e2e-charge&status=completed&limit=1&offset=999'),
      (answer) => answer.body.items?.length === 1,
    );
    expect(completed.body.items).toHaveLength(1);
    const instances = await all<{ id: string; status: string; entity: { id: string } }>(
      '/instances?definition=e2e-charge',
    );
    expect(instances).toHaveLength(JOBS);
    expect(instances.filter((i) => i.status !== 'completed')).toEqual([]);

    // Each instance's history: exactly one completion, by a live worker; the held jobs were locked again after their lock.
    const histories = new Map<string, HistoryItem[]>();
    for (let i = 0; i < instances.length; i += 10) {
      await Promise.all(
        instances.slice(i, i + 10).map(async (instance) => {
          const history = await admin('GET', `/instances/${instance.id}/history`);
          histories.set(instance.entity.id, history.body.items as HistoryItem[]);
        }),
      );
    }
    const completions = [...histories.values()].map((items) => items.filter((e) => e.type === 'JobCompleted'));
    expect(completions.filter((c) => c.length !== 1)).toEqual([]);
    const servedBy = new Map<string, number>();
    for (const [completion] of completions) {
      servedBy.set(completion!.data.workerId!, (servedBy.get(completion!.data.workerId!) ?? 0) + 1);
    }
    expect(servedBy.get('worker-victim')).toBe(20);
    expect((servedBy.get('worker-a') ?? 0) + (servedBy.get('worker-b') ?? 0)).toBe(JOBS - 20);

    expect(heldAtKill.length).toBeGreaterThanOrEqual(10);
    for (const jobId of heldAtKill) {
      const items = [...histories.values()].find((h) => h.some((e) => e.data.jobId === jobId))!;
      const ofJob = items.filter((e) => e.data.jobId === jobId);
      const victimLocks = ofJob.filter(
        (e) => (e.type === 'JobLocked' || e.type === 'JobLockExtended') && e.data.workerId === 'worker-victim',
      );
      const lastVictimLock = victimLocks.at(-1)!;
      const relock = ofJob.find((e) => e.type === 'JobLocked' && e.data.workerId !== 'worker-victim')!;
      expect(relock).toBeDefined();
      // Offered again only once the dead worker's lock had run out.
      expect(Date.parse(relock.at)).toBeGreaterThanOrEqual(Date.parse(lastVictimLock.data.lockExpiresAt!));
      expect(ofJob.find((e) => e.type === 'JobCompleted')!.data.workerId).not.toBe('worker-victim');
    }

    const failing = histories.get(FAILING)!.map((e) => e.type);
    expect(failing.filter((t) => t === 'JobFailed')).toHaveLength(3);
    expect(failing.filter((t) => t === 'JobCreated')).toHaveLength(2);
    expect(failing.indexOf('IncidentResolved')).toBeGreaterThan(failing.indexOf('IncidentRaised'));
    expect(failing.at(-1)).toBe('InstanceCompleted');
  }, 120_000);
});
