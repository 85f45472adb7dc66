import { JobNotAvailable } from '@lifeline/process-domain';
import type { FakeClock } from '@lifeline/engine';
import { startLifeline, type RunningLifeline } from '@lifeline/testing';

/**
 * The job-worker API over HTTP on a fake clock: fetch-and-lock (long polling), heartbeat, complete,
 * fail with retries and backoff, business errors, lock expiry, and an operator retrying an incident.
 */

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
      retries: 3,
      retryBackoff: 'PT10S',
      inputs: { invoice: 'record.id', amount: 'entity.amount' },
      errors: { CARD_DECLINED: 'askForAnotherCard' },
      next: 'done',
    },
    askForAnotherCard: {
      type: 'human',
      title: 'Ask for another card',
      assignee: { role: 'accounting' },
      next: 'done',
    },
    done: { type: 'end' },
  },
};

const invoice = (id: string, amount = 120) => ({
  id: `inv-${id}`,
  entityType: 'Invoice',
  entityId: id,
  kind: 'created',
  occurredAt: '2026-11-21T10:00:00Z',
  data: { amount },
});

describe('job workers over HTTP', () => {
  let lifeline: RunningLifeline;
  let worker: string;
  beforeEach(async () => {
    lifeline = await startLifeline({ demo: false });
    worker = lifeline.token('billing-worker', ['worker']);
    expect((await lifeline.call('admin', 'POST', '/definitions', charge)).status).toBe(201);
  });
  afterEach(async () => {
    await lifeline.stop();
  });

  const record = async (...ids: string[]) => {
    expect(
      (
        await lifeline.call(
          'app',
          'POST',
          '/entity-events',
          ids.map((id) => invoice(id)),
        )
      ).status,
    ).toBe(202);
    await lifeline.settle();
  };
  const fetchJobs = (workerId: string, body: Record<string, unknown> = {}) =>
    lifeline.call(worker, 'POST', '/jobs/fetch-and-lock', {
      workerId,
      types: ['charge-card'],
      lockDurationMs: 30_000,
      ...body,
    });
  const act = (jobId: string, what: string, body: Record<string, unknown>) =>
    lifeline.call(worker, 'POST', `/jobs/${jobId}/${what}`, body);
  const instanceOf = (jobId: string) => jobId.split('.')[0]!;

  it('given a record, when a worker fetches, then it locks the job with its inputs; completing it merges the variables and ends the process', async () => {
    await record('INV-1');
    const fetched = await fetchJobs('w1');
    expect(fetched.status).toBe(200);
    expect(fetched.body.jobs).toEqual([
      {
        jobId: expect.stringMatching(/\.charge\.1\.1$/),
        jobType: 'charge-card',
        instanceId: expect.any(String),
        activityId: 'charge',
        retries: 3,
        inputs: { invoice: 'INV-1', amount: 120 },
        entity: { type: 'Invoice', id: 'INV-1' },
        lockExpiresAt: '2026-11-21T10:00:30.000Z',
      },
    ]);
    const { jobId } = fetched.body.jobs[0];
    expect((await fetchJobs('w2')).body.jobs).toEqual([]);

    (lifeline.clock as FakeClock).advance(20_000);
    const beat = await act(jobId, 'heartbeat', { workerId: 'w1', lockDurationMs: 30_000 });
    expect(beat.body).toMatchObject({ jobId, lockExpiresAt: '2026-11-21T10:00:50.000Z' });
    (lifeline.clock as FakeClock).advance(20_000);
    expect((await fetchJobs('w2')).body.jobs).toEqual([]);

    const done = await act(jobId, 'complete', { workerId: 'w1', variables: { chargeId: 'ch_1' } });
    expect(done.status).toBe(200);
    expect((await act(jobId, 'complete', { workerId: 'w1', variables: { chargeId: 'ch_1' } })).status).toBe(200);
    const instance = await lifeline.call(
      'admin',
      'GET',
      `/instances/${instanceOf(jobId)}?minPosition=${done.body.position}`,
    );
    expect(instance.body).toMatchObject({ status: 'completed', variables: { chargeId: 'ch_1' } });
    const history = await lifeline.call('admin', 'GET', `/instances/${instanceOf(jobId)}/history`);
    expect(history.body.items.filter((e: { type: string }) => e.type === 'JobCompleted')).toHaveLength(1);
    expect((await lifeline.call('admin', 'GET', `/jobs/${jobId}`)).body).toMatchObject({
      state: 'completed',
      workerId: 'w1',
    });
  });

  it('given a lock that runs out, then the job is offered again, and the worker that lost it is refused', async () => {
    await record('INV-2');
    const [job] = (await fetchJobs('w1', { lockDurationMs: 5_000 })).body.jobs;
    (lifeline.clock as FakeClock).advance(4_999);
    expect((await fetchJobs('w2')).body.jobs).toEqual([]);
    (lifeline.clock as FakeClock).advance(1);
    const again = (await fetchJobs('w2')).body.jobs;
    expect(again.map((j: { jobId: string }) => j.jobId)).toEqual([job.jobId]);

    const late = await act(job.jobId, 'complete', { workerId: 'w1' });
    expect(late.status).toBe(409);
    expect(late.body.error.code).toBe('JOB.LOCK_NOT_HELD');
    expect((await act(job.jobId, 'complete', { workerId: 'w2' })).status).toBe(200);
  });

  it('given two callers at once, then no job is locked by both: the instance stream decides', async () => {
    await record(...Array.from({ length: 12 }, (_, i) => `INV-R${i}`));
    const [a, b] = await Promise.all([fetchJobs('wa', { maxJobs: 12 }), fetchJobs('wb', { maxJobs: 12 })]);
    const ids = [...a.body.jobs, ...b.body.jobs].map((j: { jobId: string }) => j.jobId);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).toHaveLength(12);

    // Past the broker: the same lock decided twice at once on one stream, one wins.
    (lifeline.clock as FakeClock).advance(30_000);
    const jobId = a.body.jobs[0]?.jobId ?? b.body.jobs[0].jobId;
    const lockAs = (workerId: string, commandId: string) =>
      lifeline.engine.instances.execute(
        instanceOf(jobId),
        { type: 'LockJob', jobId, workerId, lockDurationMs: 30_000 },
        { id: workerId, roles: ['worker'] },
        { commandId, correlationId: commandId, causationId: commandId },
      );
    const outcomes = await Promise.allSettled([lockAs('x1', 'race-1'), lockAs('x2', 'race-2')]);
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
    const refused = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected');
    expect(refused?.reason).toBeInstanceOf(JobNotAvailable);
    const history = await lifeline.call('admin', 'GET', `/instances/${instanceOf(jobId)}/history`);
    expect(history.body.items.filter((e: { type: string }) => e.type === 'JobLocked')).toHaveLength(2);
  });

  it('given nothing offered, when a worker long-polls, then it is answered as soon as a job is created', async () => {
    const polling = fetchJobs('w1', { timeoutMs: 60_000 });
    const first = await Promise.race([polling, new Promise((r) => setTimeout(() => r('still waiting'), 200))]);
    expect(first).toBe('still waiting');
    await record('INV-3');
    let timer: NodeJS.Timeout | undefined;
    const answer = await Promise.race([
      polling,
      new Promise((r) => (timer = setTimeout(() => r('timed out'), 20_000))),
    ]);
    clearTimeout(timer);
    expect(answer).toMatchObject({ status: 200, body: { jobs: [{ inputs: { invoice: 'INV-3', amount: 120 } }] } });
  });

  it('given a worker that hangs up while it waits, then it locks nothing: the next job goes to the next worker', async () => {
    const hangUp = new AbortController();
    const polling = fetch(`${lifeline.url}/jobs/fetch-and-lock`, {
      method: 'POST',
      headers: { authorization: `Bearer ${worker}`, 'content-type': 'application/json' },
      body: JSON.stringify({ workerId: 'gone', types: ['charge-card'], lockDurationMs: 30_000, timeoutMs: 60_000 }),
      signal: hangUp.signal,
    }).catch((error: unknown) => error);
    // Until the server holds the poll: it answers nothing while no job is offered.
    await new Promise((r) => setTimeout(r, 200));
    hangUp.abort();
    await expect(polling).resolves.toMatchObject({ name: 'AbortError' });
    await new Promise((r) => setTimeout(r, 200));
    await record('INV-8');
    const next = await fetchJobs('w2');
    expect(next.body.jobs).toEqual([expect.objectContaining({ inputs: { invoice: 'INV-8', amount: 120 } })]);
    const history = await lifeline.call('admin', 'GET', `/instances/${next.body.jobs[0].instanceId}/history`);
    expect(
      history.body.items
        .filter((e: { type: string }) => e.type === 'JobLocked')
        .map((e: { data: { workerId: string } }) => e.data.workerId),
    ).toEqual(['w2']);
  });

  it('given three failures, then the job waits out its backoff between them, then raises an incident an operator retries', async () => {
    await record('INV-4');
    let [job] = (await fetchJobs('w1')).body.jobs;
    const first = await act(job.jobId, 'fail', { workerId: 'w1', error: 'gateway timeout' });
    expect(first.body).toMatchObject({ retries: 2, retryAt: '2026-11-21T10:00:10.000Z', incidentId: null });
    expect((await fetchJobs('w1')).body.jobs).toEqual([]);
    expect((await lifeline.call('admin', 'GET', `/jobs/${job.jobId}`)).body).toMatchObject({
      state: 'backoff',
      retries: 2,
      lastError: 'gateway timeout',
    });
    await lifeline.advance(10_000);
    [job] = (await fetchJobs('w1')).body.jobs;
    expect(job).toMatchObject({ retries: 2 });
    // The worker may choose no backoff.
    expect((await act(job.jobId, 'fail', { workerId: 'w1', error: 'still down', backoff: 'PT0S' })).body.retries).toBe(
      1,
    );
    [job] = (await fetchJobs('w1')).body.jobs;
    const last = await act(job.jobId, 'fail', { workerId: 'w1', error: 'down for good' });
    expect(last.body).toMatchObject({ retries: 0, retryAt: null, incidentId: 'charge-1' });
    expect((await fetchJobs('w1')).body.jobs).toEqual([]);

    const incidents = await lifeline.call('admin', 'GET', '/jobs?incident=open');
    expect(incidents.body.items).toEqual([
      expect.objectContaining({
        jobId: job.jobId,
        state: 'failed',
        retries: 0,
        lastError: 'down for good',
        incident: { incidentId: 'charge-1', open: true },
      }),
    ]);
    expect((await lifeline.call('admin', 'GET', `/instances/${instanceOf(job.jobId)}`)).body.status).toBe('incident');
    expect((await lifeline.call(worker, 'POST', `/jobs/${job.jobId}/retry`)).status).toBe(403);

    const retried = await lifeline.call('admin', 'POST', `/jobs/${job.jobId}/retry`);
    expect(retried.status).toBe(200);
    expect((await lifeline.call('admin', 'POST', `/jobs/${job.jobId}/retry`)).body.error.code).toBe(
      'JOB.NO_OPEN_INCIDENT',
    );
    const [fresh] = (await fetchJobs('w1')).body.jobs;
    expect(fresh).toMatchObject({ jobId: job.jobId.replace(/\.1$/, '.2'), retries: 3 });
    expect((await act(fresh.jobId, 'complete', { workerId: 'w1' })).status).toBe(200);
    expect((await lifeline.call('admin', 'GET', `/instances/${instanceOf(job.jobId)}`)).body.status).toBe('completed');
  });

  it('given a business error, then a declared code takes its path and another raises an incident', async () => {
    await record('INV-5', 'INV-6');
    const jobs = (await fetchJobs('w1', { maxJobs: 2 })).body.jobs;
    const declined = await act(jobs[0].jobId, 'error', { workerId: 'w1', code: 'CARD_DECLINED', message: 'no funds' });
    expect(declined.body).toMatchObject({ next: 'askForAnotherCard', incidentId: null });
    const instance = await lifeline.call(
      'admin',
      'GET',
      `/instances/${instanceOf(jobs[0].jobId)}?minPosition=${declined.body.position}`,
    );
    expect(instance.body.currentActivity).toBe('askForAnotherCard');
    const unknown = await act(jobs[1].jobId, 'error', { workerId: 'w1', code: 'FRAUD' });
    expect(unknown.body).toMatchObject({ next: null, incidentId: 'charge-1' });
    expect((await lifeline.call('admin', 'GET', `/jobs/${jobs[1].jobId}`)).body).toMatchObject({
      state: 'errored',
      errorCode: 'FRAUD',
      incident: { open: true },
    });
  });

  it('refuses callers without the worker role, bad bodies and unknown jobs with codes', async () => {
    const clerk = await lifeline.call('alice', 'POST', '/jobs/fetch-and-lock', {
      workerId: 'w1',
      types: ['charge-card'],
      lockDurationMs: 30_000,
    });
    expect([clerk.status, clerk.body.error.code]).toEqual([403, 'AUTH.FORBIDDEN']);
    const bad = await fetchJobs('w 1', { types: [], lockDurationMs: 10, maxJobs: 1000, timeoutMs: 120_000 });
    expect(bad.status).toBe(400);
    expect(bad.body.error.details.map((d: { path: string }) => d.path).sort()).toEqual(
      ['lockDurationMs', 'maxJobs', 'timeoutMs', 'types', 'workerId'].sort(),
    );
    const nobody = await act('00000000-0000-4000-8000-000000000000.charge.1.1', 'complete', { workerId: 'w1' });
    expect([nobody.status, nobody.body.error.code]).toEqual([404, 'JOB.NOT_FOUND']);
    const garbage = await act('not-a-job', 'complete', { workerId: 'w1' });
    expect([garbage.status, garbage.body.error.code]).toEqual([404, 'JOB.NOT_FOUND']);
    await record('INV-7');
    const [job] = (await fetchJobs('w1')).body.jobs;
    const badBackoff = await act(job.jobId, 'fail', { workerId: 'w1', error: 'x', backoff: 'soon' });
    expect([badBackoff.status, badBackoff.body.error.code]).toEqual([400, 'JOB.INVALID_BACKOFF']);
    const stranger = await act(job.jobId, 'heartbeat', { workerId: 'w9', lockDurationMs: 30_000 });
    expect([stranger.status, stranger.body.error.code]).toEqual([409, 'JOB.LOCK_NOT_HELD']);
    const bigVariables = await act(job.jobId, 'complete', { workerId: 'w1', variables: { blob: 'x'.repeat(70_000) } });
    expect([bigVariables.status, bigVariables.body.error.code]).toEqual([400, 'JOB.VARIABLES_TOO_LARGE']);
    expect((await lifeline.call('admin', 'GET', `/jobs/${job.jobId}`)).body.state).toBe('locked');
  });

  it('declares the job operations in the OpenAPI document, every schema they name defined', async () => {
    const document = (await lifeline.call(null, 'GET', '/docs/openapi.json')).body;
    const jobPaths = Object.keys(document.paths).filter((p) => p.startsWith('/jobs'));
    expect(jobPaths.sort()).toEqual([
      '/jobs',
      '/jobs/fetch-and-lock',
      '/jobs/{jobId}',
      '/jobs/{jobId}/complete',
      '/jobs/{jobId}/error',
      '/jobs/{jobId}/fail',
      '/jobs/{jobId}/heartbeat',
      '/jobs/{jobId}/retry',
    ]);
    const refs = JSON.stringify(jobPaths.map((p) => document.paths[p])).match(/#\/components\/schemas\/\w+/g) ?? [];
    const missing = [...new Set(refs)].filter((ref) => !document.components.schemas[ref.split('/').pop()!]);
    expect(missing).toEqual([]);
    expect(document.components.schemas.FetchAndLockDto).toMatchObject({
      additionalProperties: false,
      required: expect.arrayContaining(['workerId', 'types', 'lockDurationMs']),
    });
  });
});
