import { given, T0, at, MINUTE } from '@lifeline/testing';
import {
  evolveAll,
  InstanceSuspendedError,
  InvalidJobBackoff,
  InvalidLockDuration,
  JobLockNotHeld,
  JobNotAvailable,
  JobNotFound,
  JobNotOpen,
  parseDefinition,
  SYSTEM,
  type DecideContext,
  type InstanceEvent,
  type JobCreated,
} from '@lifeline/process-domain';

const I = '0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b';
const JOB = `${I}.check.1.1`;
const definition = parseDefinition(
  JSON.stringify({
    key: 'credit',
    name: 'Credit check',
    relatedEntity: 'Customer',
    start: 'check',
    activities: {
      check: {
        type: 'service',
        jobType: 'credit-check',
        retries: 2,
        retryBackoff: 'PT30S',
        inputs: { customer: 'record.id', limit: 'entity.limit * 2' },
        errors: { CREDIT_REJECTED: 'rejected' },
        next: 'done',
      },
      rejected: { type: 'end' },
      done: { type: 'end' },
    },
  }),
);
const ctx = (over: Partial<DecideContext> = {}): DecideContext => ({
  now: T0,
  definition,
  definitionVersion: 1,
  entityData: { limit: 500 },
  actor: { id: 'robot', roles: ['worker'] },
  ...over,
});

const started: InstanceEvent = {
  type: 'InstanceStarted',
  data: {
    instanceId: I,
    definitionKey: 'credit',
    definitionVersion: 1,
    definitionName: 'Credit check',
    entity: { type: 'Customer', id: 'C-1' },
    variables: { segment: 'retail' },
    cause: { kind: 'api' },
  },
};
const entered: InstanceEvent = {
  type: 'ActivityEntered',
  data: { activityId: 'check', activityType: 'service', visit: 1 },
};
const created: JobCreated = {
  type: 'JobCreated',
  data: {
    jobId: JOB,
    activityId: 'check',
    visit: 1,
    jobType: 'credit-check',
    retries: 2,
    inputs: { customer: 'C-1', limit: 1000 },
    entity: { type: 'Customer', id: 'C-1' },
  },
};
const lockedBy = (workerId: string, until = at(MINUTE)): InstanceEvent => ({
  type: 'JobLocked',
  data: { jobId: JOB, workerId, lockExpiresAt: until },
});
const atCheck = [started, entered, created];
const lock = (workerId: string, lockDurationMs = MINUTE) =>
  ({ type: 'LockJob', jobId: JOB, workerId, lockDurationMs }) as const;

describe('a service activity', () => {
  it('given a start, then it rests at a job of its type with its inputs evaluated', () => {
    given()
      .when(
        {
          type: 'StartInstance',
          instanceId: I,
          definitionKey: 'credit',
          definitionVersion: 1,
          entity: { type: 'Customer', id: 'C-1' },
          variables: { segment: 'retail' },
          cause: { kind: 'api' },
        },
        ctx(),
      )
      .then(atCheck);
  });

  it('given no inputs, then the job carries the process variables', () => {
    const plain = parseDefinition(
      JSON.stringify({
        ...definition,
        activities: { check: { type: 'service', jobType: 'credit-check', next: 'done' }, done: { type: 'end' } },
      }),
    );
    const fresh = given()
      .when(
        {
          type: 'StartInstance',
          instanceId: I,
          definitionKey: 'credit',
          definitionVersion: 1,
          entity: { type: 'Customer', id: 'C-1' },
          variables: { segment: 'retail' },
          cause: { kind: 'api' },
        },
        ctx({ definition: plain }),
      )
      .events();
    expect(fresh.at(-1)).toMatchObject({ type: 'JobCreated', data: { inputs: { segment: 'retail' }, retries: 3 } });
  });

  it('given an input whose FEEL fails, then an incident is raised and no job is created', () => {
    const costly = parseDefinition(
      JSON.stringify({
        ...definition,
        activities: {
          ...definition.activities,
          check: { ...definition.activities.check, inputs: { n: 'count(for i in 1..entity.limit return i)' } },
        },
      }),
    );
    given()
      .when(
        {
          type: 'StartInstance',
          instanceId: I,
          definitionKey: 'credit',
          definitionVersion: 1,
          entity: { type: 'Customer', id: 'C-1' },
          variables: {},
          cause: { kind: 'api' },
        },
        ctx({ definition: costly, entityData: { limit: 100_000_000 } }),
      )
      .thenTypes(['InstanceStarted', 'ActivityEntered', 'IncidentRaised']);
  });
});

describe('LockJob', () => {
  it('given an offered job, then the worker locks it for the duration asked', () => {
    given(...atCheck)
      .when(lock('w1'), ctx())
      .then([lockedBy('w1', at(MINUTE))]);
  });
  it('given a job another worker holds, then it is not available until that lock expires', () => {
    given(...atCheck, lockedBy('w1'))
      .when(lock('w2'), ctx({ now: at(MINUTE - 1) }))
      .thenThrows(JobNotAvailable, 'JOB.NOT_AVAILABLE');
    given(...atCheck, lockedBy('w1'))
      .when(lock('w2'), ctx({ now: at(MINUTE) }))
      .then([lockedBy('w2', at(2 * MINUTE))]);
  });
  it('given a lock shorter than a second or longer than a day, then it is refused', () => {
    given(...atCheck)
      .when(lock('w1', 999), ctx())
      .thenThrows(InvalidLockDuration, 'JOB.INVALID_LOCK_DURATION');
    given(...atCheck)
      .when(lock('w1', 24 * 60 * MINUTE + 1), ctx())
      .thenThrows(InvalidLockDuration, 'JOB.INVALID_LOCK_DURATION');
  });
  it('given a suspended instance, then its job is not locked', () => {
    given(...atCheck, { type: 'InstanceSuspended', data: { by: 'root' } })
      .when(lock('w1'), ctx())
      .thenThrows(InstanceSuspendedError, 'INSTANCE.SUSPENDED');
  });
  it('given no such job, then JOB.NOT_FOUND', () => {
    given(...atCheck)
      .when({ ...lock('w1'), jobId: `${I}.check.1.2` }, ctx())
      .thenThrows(JobNotFound, 'JOB.NOT_FOUND');
  });
});

describe('CompleteJob', () => {
  it('given the holder completes, then its variables are set and the flow goes on', () => {
    const state = given(...atCheck, lockedBy('w1'))
      .when({ type: 'CompleteJob', jobId: JOB, workerId: 'w1', variables: { score: 712 } }, ctx())
      .thenState();
    expect(state).toMatchObject({
      status: 'completed',
      variables: { segment: 'retail', score: 712 },
      outcomes: { check: { completedBy: 'w1' } },
      jobs: { [JOB]: { status: 'completed', workerId: 'w1' } },
    });
  });
  it('given the holder completes after its lock expired but before anyone else locked the job, then it counts', () => {
    given(...atCheck, lockedBy('w1'))
      .when({ type: 'CompleteJob', jobId: JOB, workerId: 'w1' }, ctx({ now: at(5 * MINUTE) }))
      .thenTypes(['JobCompleted', 'ActivityEntered', 'InstanceCompleted']);
  });
  it('given the lock expired and another worker locked the job, then the first worker is refused', () => {
    given(...atCheck, lockedBy('w1'), lockedBy('w2', at(3 * MINUTE)))
      .when({ type: 'CompleteJob', jobId: JOB, workerId: 'w1' }, ctx({ now: at(2 * MINUTE) }))
      .thenThrows(JobLockNotHeld, 'JOB.LOCK_NOT_HELD');
  });
  it('given a job nobody locked, then completing it is refused', () => {
    given(...atCheck)
      .when({ type: 'CompleteJob', jobId: JOB, workerId: 'w1' }, ctx())
      .thenThrows(JobLockNotHeld, 'JOB.LOCK_NOT_HELD');
  });
  it('given the same worker completes twice, then the second changes nothing; another worker gets JOB.NOT_OPEN', () => {
    const done = given(...atCheck, lockedBy('w1'))
      .when({ type: 'CompleteJob', jobId: JOB, workerId: 'w1' }, ctx())
      .events();
    given(...atCheck, lockedBy('w1'), ...done)
      .when({ type: 'CompleteJob', jobId: JOB, workerId: 'w1', variables: { score: 1 } }, ctx())
      .then([]);
    given(...atCheck, lockedBy('w1'), ...done)
      .when({ type: 'CompleteJob', jobId: JOB, workerId: 'w2' }, ctx())
      .thenThrows(JobNotOpen, 'JOB.NOT_OPEN');
  });
  it('given a terminated instance, then its job is cancelled and cannot be completed', () => {
    const history = [...atCheck, lockedBy('w1'), { type: 'InstanceTerminated', data: { by: 'root' } } as const];
    expect(evolveAll(history)).toMatchObject({ jobs: { [JOB]: { status: 'cancelled' } } });
    given(...history)
      .when({ type: 'CompleteJob', jobId: JOB, workerId: 'w1' }, ctx())
      .thenThrows(JobNotOpen, 'JOB.NOT_OPEN');
  });
});

describe('ExtendJobLock', () => {
  it('given the holder, then the lock runs from now for the duration asked', () => {
    given(...atCheck, lockedBy('w1'))
      .when({ type: 'ExtendJobLock', jobId: JOB, workerId: 'w1', lockDurationMs: MINUTE }, ctx({ now: at(30_000) }))
      .then([{ type: 'JobLockExtended', data: { jobId: JOB, workerId: 'w1', lockExpiresAt: at(90_000) } }]);
  });
  it('given another worker, then it is refused', () => {
    given(...atCheck, lockedBy('w1'))
      .when({ type: 'ExtendJobLock', jobId: JOB, workerId: 'w2', lockDurationMs: MINUTE }, ctx())
      .thenThrows(JobLockNotHeld, 'JOB.LOCK_NOT_HELD');
  });
});

describe('FailJob', () => {
  const fail = (over: Record<string, unknown> = {}) =>
    ({ type: 'FailJob', jobId: JOB, workerId: 'w1', error: 'bureau down', ...over }) as const;

  it('given retries left, then it fails with one retry fewer and waits out the activity backoff', () => {
    given(...atCheck, lockedBy('w1'))
      .when(fail(), ctx())
      .then([
        {
          type: 'JobFailed',
          data: {
            jobId: JOB,
            activityId: 'check',
            jobType: 'credit-check',
            workerId: 'w1',
            error: 'bureau down',
            retries: 1,
            retryAt: at(30_000),
            entity: { type: 'Customer', id: 'C-1' },
          },
        },
      ]);
  });
  it('given a backoff of zero, then it is offered again at once', () => {
    const [failed] = given(...atCheck, lockedBy('w1'))
      .when(fail({ backoff: 'PT0S' }), ctx())
      .events();
    expect(failed).toMatchObject({ type: 'JobFailed', data: { retries: 1 } });
    expect(failed?.data).not.toHaveProperty('retryAt');
  });
  it('given a backoff that is no duration, then it is refused', () => {
    given(...atCheck, lockedBy('w1'))
      .when(fail({ backoff: 'soon' }), ctx())
      .thenThrows(InvalidJobBackoff, 'JOB.INVALID_BACKOFF');
  });
  it('given the last retry fails, then an incident is raised, and retrying it creates a fresh job', () => {
    const failedOnce: InstanceEvent = {
      type: 'JobFailed',
      data: {
        jobId: JOB,
        activityId: 'check',
        jobType: 'credit-check',
        workerId: 'w1',
        error: 'bureau down',
        retries: 1,
        entity: { type: 'Customer', id: 'C-1' },
      },
    };
    const exhausted = given(...atCheck, lockedBy('w1'), failedOnce, lockedBy('w2'))
      .when({ ...fail(), workerId: 'w2', error: 'still down' }, ctx())
      .events();
    expect(exhausted).toEqual([
      expect.objectContaining({ type: 'JobFailed', data: expect.objectContaining({ retries: 0 }) }),
      {
        type: 'IncidentRaised',
        data: {
          incidentId: 'check-1',
          activityId: 'check',
          code: 'JOB.RETRIES_EXHAUSTED',
          message: 'Job credit-check failed with no retries left: still down',
        },
      },
    ]);
    const history = [...atCheck, lockedBy('w1'), failedOnce, lockedBy('w2'), ...exhausted];
    expect(evolveAll(history)).toMatchObject({ jobs: { [JOB]: { status: 'failed', lastError: 'still down' } } });
    given(...history)
      .when({ type: 'RetryIncident', incidentId: 'check-1' }, ctx({ actor: { id: 'root', roles: ['admin'] } }))
      .then([
        { type: 'IncidentResolved', data: { incidentId: 'check-1', activityId: 'check', by: 'root' } },
        { ...created, data: { ...created.data, jobId: `${I}.check.1.2` } },
      ]);
  });
  it('given an incident retried while the visit job is still open, then no second job is created', () => {
    const incident: InstanceEvent = {
      type: 'IncidentRaised',
      data: { incidentId: 'check-1', activityId: 'check', code: 'X', message: 'a reaction failed' },
    };
    given(...atCheck, incident)
      .when({ type: 'RetryIncident', incidentId: 'check-1' }, ctx({ actor: SYSTEM }))
      .thenTypes(['IncidentResolved']);
  });
});

describe('FireJobRetry', () => {
  const failed: InstanceEvent = {
    type: 'JobFailed',
    data: {
      jobId: JOB,
      activityId: 'check',
      jobType: 'credit-check',
      workerId: 'w1',
      error: 'down',
      retries: 1,
      retryAt: at(30_000),
      entity: { type: 'Customer', id: 'C-1' },
    },
  };
  it('given a job in its backoff, then it cannot be locked until its retry is due', () => {
    given(...atCheck, lockedBy('w1'), failed)
      .when(lock('w2'), ctx({ now: at(MINUTE) }))
      .thenThrows(JobNotAvailable, 'JOB.NOT_AVAILABLE');
    const due = given(...atCheck, lockedBy('w1'), failed)
      .when({ type: 'FireJobRetry', jobId: JOB }, ctx({ now: at(30_000), actor: SYSTEM }))
      .then([{ type: 'JobRetryDue', data: { jobId: JOB, activityId: 'check', jobType: 'credit-check' } }]);
    given(...atCheck, lockedBy('w1'), failed, ...due)
      .when(lock('w2'), ctx({ now: at(30_000) }))
      .thenTypes(['JobLocked']);
  });
  it('given the timer fires early or again, then nothing happens', () => {
    given(...atCheck, lockedBy('w1'), failed)
      .when({ type: 'FireJobRetry', jobId: JOB }, ctx({ now: at(29_999), actor: SYSTEM }))
      .then([]);
    given(...atCheck, lockedBy('w1'), failed, {
      type: 'JobRetryDue',
      data: { jobId: JOB, activityId: 'check', jobType: 'credit-check' },
    })
      .when({ type: 'FireJobRetry', jobId: JOB }, ctx({ now: at(MINUTE), actor: SYSTEM }))
      .then([]);
  });
});

describe('ThrowJobError', () => {
  it('given a declared code, then the flow takes its path with the variables', () => {
    const state = given(...atCheck, lockedBy('w1'))
      .when(
        { type: 'ThrowJobError', jobId: JOB, workerId: 'w1', code: 'CREDIT_REJECTED', variables: { reason: 'debt' } },
        ctx(),
      )
      .thenState();
    expect(state).toMatchObject({
      status: 'completed',
      variables: { reason: 'debt' },
      outcomes: { check: { errorCode: 'CREDIT_REJECTED', completedBy: 'w1' } },
      jobs: { [JOB]: { status: 'errored' } },
    });
  });
  it('given a code the activity does not declare, then an incident is raised', () => {
    given(...atCheck, lockedBy('w1'))
      .when({ type: 'ThrowJobError', jobId: JOB, workerId: 'w1', code: 'constructor', message: 'odd' }, ctx())
      .then([
        {
          type: 'JobErrorThrown',
          data: { jobId: JOB, activityId: 'check', workerId: 'w1', code: 'constructor', message: 'odd', variables: {} },
        },
        {
          type: 'IncidentRaised',
          data: {
            incidentId: 'check-1',
            activityId: 'check',
            code: 'JOB.UNHANDLED_ERROR',
            message: 'The worker reported the error constructor (odd), for which check declares no path',
          },
        },
      ]);
  });
});
