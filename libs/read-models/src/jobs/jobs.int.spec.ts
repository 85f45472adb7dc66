import type { InstanceEvent } from '@lifeline/process-domain';
import { jobsProjection } from './jobs.projection';
import { ReadModelFixture } from '../testing/read-model-fixture';
import { getJob, jobsOfInstance, listJobs, nextOfferAfter, offeredJobs } from './jobs.queries';

const I1 = '0b6f8f4e-1a2b-4c3d-8e9f-000000000001';
const I2 = '0b6f8f4e-1a2b-4c3d-8e9f-000000000002';
const job = (instanceId: string, n = 1) => `${instanceId}.charge.1.${n}`;
const entity = { type: 'Invoice', id: 'INV-7' };

describe('jobs read model: what workers are offered and what operators see', () => {
  let rm: ReadModelFixture;
  beforeEach(() => {
    rm = new ReadModelFixture();
  });
  afterEach(() => rm.dispose());

  const on = (instanceId: string, event: InstanceEvent) => rm.log.instance(instanceId, event, 'w');
  const create = (instanceId: string, n = 1, jobType = 'charge-card') =>
    on(instanceId, {
      type: 'JobCreated',
      data: {
        jobId: job(instanceId, n),
        activityId: 'charge',
        visit: 1,
        jobType,
        retries: 3,
        inputs: { amount: 1200 },
        entity,
      },
    });
  const lock = (instanceId: string, workerId: string, forMs: number, n = 1) =>
    on(instanceId, {
      type: 'JobLocked',
      data: {
        jobId: job(instanceId, n),
        workerId,
        lockExpiresAt: new Date(Date.parse(rm.log.now()) + forMs).toISOString(),
      },
    });
  const offered = (types = ['charge-card']) => offeredJobs(rm.sql, types, rm.log.now(), 10).map((j) => j.jobId);

  it('given a created job, then it is offered to its type only, with its inputs', () => {
    create(I1);
    rm.project();
    expect(offered()).toEqual([job(I1)]);
    expect(offered(['send-mail'])).toEqual([]);
    expect(getJob(rm.sql, job(I1))).toMatchObject({
      instanceId: I1,
      activityId: 'charge',
      jobType: 'charge-card',
      state: 'available',
      retries: 3,
      inputs: { amount: 1200 },
      entity,
      workerId: null,
      incident: null,
    });
  });

  it('given a locked job, then it is offered again exactly when its lock expires, and the next lock takes it', () => {
    create(I1);
    lock(I1, 'w1', 30_000);
    rm.project();
    expect(offered()).toEqual([]);
    const expiry = getJob(rm.sql, job(I1))!.lockExpiresAt!;
    expect(nextOfferAfter(rm.sql, ['charge-card'], rm.log.now())).toBe(expiry);
    expect(offeredJobs(rm.sql, ['charge-card'], new Date(Date.parse(expiry) - 1).toISOString(), 10)).toEqual([]);
    expect(offeredJobs(rm.sql, ['charge-card'], expiry, 10).map((j) => j.jobId)).toEqual([job(I1)]);

    rm.log.advance(30_000);
    lock(I1, 'w2', 30_000);
    rm.project();
    expect(offered()).toEqual([]);
    expect(getJob(rm.sql, job(I1))).toMatchObject({ state: 'locked', workerId: 'w2' });
  });

  it('given a heartbeat, then the lock runs longer', () => {
    create(I1);
    lock(I1, 'w1', 10_000);
    rm.log.advance(5_000);
    on(I1, {
      type: 'JobLockExtended',
      data: {
        jobId: job(I1),
        workerId: 'w1',
        lockExpiresAt: new Date(Date.parse(rm.log.now()) + 10_000).toISOString(),
      },
    });
    rm.log.advance(6_000);
    rm.project();
    expect(offered()).toEqual([]);
    expect(getJob(rm.sql, job(I1))?.lockExpiresAt).toBe('2026-11-21T10:00:15.000Z');
  });

  it('given jobs of two types, then the longest offered comes first and the limit holds', () => {
    create(I1, 1, 'charge-card');
    rm.log.advance(1_000);
    create(I2, 1, 'send-mail');
    rm.project();
    expect(offered(['send-mail', 'charge-card'])).toEqual([job(I1), job(I2)]);
    expect(offeredJobs(rm.sql, ['send-mail', 'charge-card'], rm.log.now(), 1).map((j) => j.jobId)).toEqual([job(I1)]);
  });

  it('given a failure with a backoff, then it is not offered until its retry is due, then offered with the retries left', () => {
    create(I1);
    lock(I1, 'w1', 30_000);
    on(I1, {
      type: 'JobFailed',
      data: {
        jobId: job(I1),
        activityId: 'charge',
        jobType: 'charge-card',
        workerId: 'w1',
        error: 'gateway down',
        retries: 2,
        retryAt: '2026-11-21T10:01:00.000Z',
        entity,
      },
    });
    rm.project();
    expect(offered()).toEqual([]);
    expect(getJob(rm.sql, job(I1))).toMatchObject({
      state: 'backoff',
      retries: 2,
      lastError: 'gateway down',
      retryAt: '2026-11-21T10:01:00.000Z',
      lockExpiresAt: null,
    });
    rm.log.advance(60_000);
    on(I1, { type: 'JobRetryDue', data: { jobId: job(I1), activityId: 'charge', jobType: 'charge-card' } });
    rm.project();
    expect(offered()).toEqual([job(I1)]);
    expect(getJob(rm.sql, job(I1))).toMatchObject({ state: 'available', retries: 2, retryAt: null });
  });

  it('given the last failure, then the job is failed with its incident, which the retry resolves with a new job', () => {
    create(I1);
    lock(I1, 'w1', 30_000);
    on(I1, {
      type: 'JobFailed',
      data: {
        jobId: job(I1),
        activityId: 'charge',
        jobType: 'charge-card',
        workerId: 'w1',
        error: 'card declined',
        retries: 0,
        entity,
      },
    });
    on(I1, {
      type: 'IncidentRaised',
      data: { incidentId: 'charge-1', activityId: 'charge', code: 'JOB.RETRIES_EXHAUSTED', message: 'no retries left' },
    });
    rm.project();
    expect(offered()).toEqual([]);
    expect(getJob(rm.sql, job(I1))).toMatchObject({
      state: 'failed',
      retries: 0,
      incident: { incidentId: 'charge-1', open: true },
    });
    expect(listJobs(rm.sql, { openIncident: true }).map((j) => j.jobId)).toEqual([job(I1)]);

    on(I1, { type: 'IncidentResolved', data: { incidentId: 'charge-1', activityId: 'charge', by: 'root' } });
    create(I1, 2);
    rm.project();
    expect(getJob(rm.sql, job(I1))?.incident).toEqual({ incidentId: 'charge-1', open: false });
    expect(listJobs(rm.sql, { openIncident: true })).toEqual([]);
    expect(offered()).toEqual([job(I1, 2)]);
    expect(jobsOfInstance(rm.sql, I1).map((j) => [j.jobId, j.state])).toEqual([
      [job(I1), 'failed'],
      [job(I1, 2), 'available'],
    ]);
  });

  it('given a business error that took its path and a later visit whose error has none, then only the later job has the incident', () => {
    const visit = (n: number) => `${I1}.charge.${n}.1`;
    const createVisit = (n: number) =>
      on(I1, {
        type: 'JobCreated',
        data: {
          jobId: visit(n),
          activityId: 'charge',
          visit: n,
          jobType: 'charge-card',
          retries: 3,
          inputs: {},
          entity,
        },
      });
    const thrown = (n: number, next?: string) =>
      on(I1, {
        type: 'JobErrorThrown',
        data: {
          jobId: visit(n),
          activityId: 'charge',
          workerId: 'w1',
          code: next ? 'CARD_DECLINED' : 'FRAUD',
          variables: {},
          ...(next ? { next } : {}),
        },
      });
    createVisit(1);
    thrown(1, 'askAgain');
    createVisit(2);
    thrown(2);
    on(I1, {
      type: 'IncidentRaised',
      data: { incidentId: 'charge-1', activityId: 'charge', code: 'JOB.UNHANDLED_ERROR', message: 'no path' },
    });
    rm.project();
    expect(getJob(rm.sql, visit(1))?.incident).toBeNull();
    expect(getJob(rm.sql, visit(2))?.incident).toEqual({ incidentId: 'charge-1', open: true });
  });

  it('given a completed job or a business error, then it is closed and not offered', () => {
    create(I1);
    create(I2);
    lock(I1, 'w1', 30_000);
    lock(I2, 'w1', 30_000);
    on(I1, { type: 'JobCompleted', data: { jobId: job(I1), activityId: 'charge', workerId: 'w1', variables: {} } });
    on(I2, {
      type: 'JobErrorThrown',
      data: {
        jobId: job(I2),
        activityId: 'charge',
        workerId: 'w1',
        code: 'CARD_DECLINED',
        message: 'declined',
        variables: {},
        next: 'askForOtherCard',
      },
    });
    rm.log.advance(60_000);
    rm.project();
    expect(offered()).toEqual([]);
    expect(getJob(rm.sql, job(I1))).toMatchObject({ state: 'completed', workerId: 'w1', lockExpiresAt: null });
    expect(getJob(rm.sql, job(I2))).toMatchObject({
      state: 'errored',
      errorCode: 'CARD_DECLINED',
      lastError: 'declined',
    });
  });

  it('given a suspended instance, then its jobs are not offered until it resumes; a terminated one cancels them', () => {
    create(I1);
    on(I1, { type: 'InstanceSuspended', data: { by: 'root' } });
    rm.project();
    expect(offered()).toEqual([]);
    expect(getJob(rm.sql, job(I1))).toMatchObject({ state: 'available', suspended: true });
    on(I1, { type: 'InstanceResumed', data: { by: 'root' } });
    rm.project();
    expect(offered()).toEqual([job(I1)]);
    on(I1, { type: 'InstanceTerminated', data: { by: 'root' } });
    rm.project();
    expect(offered()).toEqual([]);
    expect(getJob(rm.sql, job(I1))?.state).toBe('cancelled');
  });

  it('given the same log, then a rebuilt file holds the same rows as the one applied event by event', () => {
    create(I1);
    lock(I1, 'w1', 30_000);
    create(I2);
    rm.project();
    const fresh = new ReadModelFixture([jobsProjection]);
    try {
      fresh.projector.applyBatch(rm.log.events);
      expect(listJobs(fresh.sql)).toEqual(listJobs(rm.sql));
    } finally {
      fresh.dispose();
    }
  });
});
