import type { FakeClock } from '@lifeline/engine';
import { BusinessError, JobApiError, JobClient, runWorker, type JobWorker } from '@lifeline/job-worker';
import { startLifeline, type RunningLifeline } from '@lifeline/testing';

/** The worker client of libs/job-worker against a real server: what a handler returns or throws becomes the job's outcome. */

const charge = {
  key: 'charge-invoice',
  name: 'Charge an invoice',
  relatedEntity: 'Invoice',
  triggers: [{ on: 'created' }],
  start: 'charge',
  activities: {
    charge: {
      type: 'service',
      jobType: 'charge-card',
      retries: 2,
      inputs: { amount: 'entity.amount' },
      errors: { CARD_DECLINED: 'declined' },
      next: 'done',
    },
    declined: { type: 'end' },
    done: { type: 'end' },
  },
};

describe('the job-worker client', () => {
  let lifeline: RunningLifeline;
  let worker: JobWorker | undefined;
  let token: string;
  beforeEach(async () => {
    lifeline = await startLifeline({ demo: false });
    token = lifeline.token('billing', ['worker']);
    expect((await lifeline.call('admin', 'POST', '/definitions', charge)).status).toBe(201);
  });
  afterEach(async () => {
    await worker?.stop();
    worker = undefined;
    await lifeline.stop();
  });

  const record = async (id: string, amount: number) => {
    const event = {
      id: `inv-${id}`,
      entityType: 'Invoice',
      entityId: id,
      kind: 'created',
      occurredAt: '2026-11-21T10:00:00Z',
      data: { amount },
    };
    expect((await lifeline.call('app', 'POST', '/entity-events', event)).status).toBe(202);
    await lifeline.settle();
  };
  const jobsIn = async (state: string) =>
    (await lifeline.call('admin', 'GET', `/jobs?state=${state}`)).body.items as {
      jobId: string;
      [k: string]: unknown;
    }[];
  const eventually = async <T>(ask: () => Promise<T>, done: (value: T) => boolean): Promise<T> => {
    for (let i = 0; ; i++) {
      const value = await ask();
      if (done(value) || i >= 300) return value;
      await new Promise((r) => setTimeout(r, 20));
    }
  };

  it('completes with the returned variables, answers a BusinessError with its code, fails on a throw', async () => {
    await record('OK', 100);
    await record('BIG', 50_000);
    await record('BAD', -1);
    worker = runWorker<{ amount: number }>(
      { url: lifeline.url, token, workerId: 'w1', types: ['charge-card'], pollTimeoutMs: 200 },
      async (job) => {
        if (job.inputs.amount > 10_000) throw new BusinessError('CARD_DECLINED', 'over the limit');
        if (job.inputs.amount < 0) throw new Error('negative amount');
        return { charged: job.inputs.amount };
      },
    );
    const settled = await eventually(
      async () => [...(await jobsIn('completed')), ...(await jobsIn('errored')), ...(await jobsIn('failed'))],
      (jobs) => jobs.length === 3,
    );
    const byRecord = Object.fromEntries(
      settled.map((j) => [(j.entity as { id: string }).id, [j.state, j.errorCode, j.lastError, j.retries]]),
    );
    expect(byRecord).toEqual({
      OK: ['completed', null, null, 2],
      BIG: ['errored', 'CARD_DECLINED', 'over the limit', 2],
      // retries 2: the first failure offers it again at once, the second raises the incident.
      BAD: ['failed', null, 'negative amount', 0],
    });
    const ok = settled.find((j) => (j.entity as { id: string }).id === 'OK')!;
    const instance = await lifeline.call('admin', 'GET', `/instances/${ok.instanceId as string}`);
    expect(instance.body).toMatchObject({ status: 'completed', variables: { charged: 100 } });
  });

  it('extends the lock while the handler runs, so another worker is not offered the job', async () => {
    await record('SLOW', 10);
    const clock = lifeline.clock as FakeClock;
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    let started!: (jobId: string) => void;
    const handling = new Promise<string>((r) => (started = r));
    worker = runWorker(
      { url: lifeline.url, token, workerId: 'slow', types: ['charge-card'], lockDurationMs: 1_000, pollTimeoutMs: 200 },
      async (job) => {
        started(job.jobId);
        await released;
        return { slow: true };
      },
    );
    const jobId = await handling;
    const first = (await lifeline.call('admin', 'GET', `/jobs/${jobId}`)).body.lockExpiresAt as string;
    clock.advance(900);
    // A heartbeat every half lock: the expiry moves to the fake now + 1 s.
    const beaten = await eventually(
      async () => (await lifeline.call('admin', 'GET', `/jobs/${jobId}`)).body.lockExpiresAt as string,
      (at) => at !== first,
    );
    expect(Date.parse(beaten)).toBe(Date.parse(first) + 900);
    clock.advance(900);
    const other = new JobClient({ url: lifeline.url, token });
    expect(await other.fetchAndLock({ workerId: 'other', types: ['charge-card'], lockDurationMs: 1_000 })).toEqual([]);
    release();
    await eventually(
      () => jobsIn('completed'),
      (jobs) => jobs.length === 1,
    );
    const refused = await other.complete(jobId, 'other').catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(JobApiError);
    expect(refused).toMatchObject({ status: 409, code: 'JOB.NOT_OPEN' });
  });

  it('tells the handler when another worker took the job after its lock ran out, and answers nothing', async () => {
    await record('LOST', 10);
    const clock = lifeline.clock as FakeClock;
    let started!: (jobId: string) => void;
    const handling = new Promise<string>((r) => (started = r));
    let lost!: () => void;
    const lostLock = new Promise<void>((r) => (lost = r));
    const errors: unknown[] = [];
    worker = runWorker(
      {
        url: lifeline.url,
        token,
        workerId: 'stalled',
        types: ['charge-card'],
        maxJobs: 1,
        lockDurationMs: 1_000,
        pollTimeoutMs: 200,
        onError: (error) => errors.push(error),
      },
      async (job, { signal }) => {
        started(job.jobId);
        signal.addEventListener('abort', () => lost(), { once: true });
        await lostLock;
        return { stalled: true };
      },
    );
    const jobId = await handling;
    // The worker's clock and the server's part: its lock has run out before its first heartbeat.
    clock.advance(1_000);
    const other = new JobClient({ url: lifeline.url, token });
    const [taken] = await other.fetchAndLock({ workerId: 'other', types: ['charge-card'], lockDurationMs: 60_000 });
    expect(taken?.jobId).toBe(jobId);
    await lostLock;
    expect(errors).toEqual([expect.objectContaining({ status: 409, code: 'JOB.LOCK_NOT_HELD' })]);
    await other.complete(jobId, 'other', { by: 'other' });
    await worker.stop();
    const history = await lifeline.call('admin', 'GET', `/instances/${taken!.instanceId}/history`);
    const completions = history.body.items.filter((e: { type: string }) => e.type === 'JobCompleted');
    expect(completions.map((e: { data: { workerId: string } }) => e.data.workerId)).toEqual(['other']);
  });

  it('runs a job once when its own next fetch locks it again after its lock ran out', async () => {
    await record('AGAIN', 10);
    const clock = lifeline.clock as FakeClock;
    const calls: string[] = [];
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    worker = runWorker(
      { url: lifeline.url, token, workerId: 'w1', types: ['charge-card'], lockDurationMs: 60_000, pollTimeoutMs: 100 },
      async (job) => {
        calls.push(job.jobId);
        await released;
        return { once: true };
      },
    );
    const [jobId] = await eventually(
      async () => calls,
      (c) => c.length > 0,
    );
    clock.advance(60_000);
    const locks = await eventually(
      async () =>
        (await lifeline.call('admin', 'GET', `/instances/${jobId!.split('.')[0]}/history`)).body.items.filter(
          (e: { type: string }) => e.type === 'JobLocked',
        ),
      (items) => items.length === 2,
    );
    expect(locks.map((e: { data: { workerId: string } }) => e.data.workerId)).toEqual(['w1', 'w1']);
    release();
    await eventually(
      () => jobsIn('completed'),
      (jobs) => jobs.length === 1,
    );
    expect(calls).toEqual([jobId]);
  });
});
