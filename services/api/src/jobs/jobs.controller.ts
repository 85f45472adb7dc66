import { Controller, Get, HttpCode, Param, Post, Query, Req, Res } from '@nestjs/common';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import { ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import type { Request, Response } from 'express';
import {
  checkRecordData,
  ERROR_CODE,
  InstanceNotFound,
  JOB_ID,
  JOB_LOCK_BOUNDS,
  JOB_TYPE,
  MAX_JOB_RETRIES,
  type Actor,
  type IncidentRaised,
  type JobCommand,
  type JobFailed,
} from '@lifeline/process-domain';
import { RunInstanceCommand, type InstanceCommandResult } from '@lifeline/engine';
import { CurrentCaller, RequireRoles } from '../auth/auth.guard';
import type { Caller } from '../auth/jwt';
import { RequestInvalid } from '../http/api-errors';
import { originOf } from '../http/origin';
import { ApiAnswer, ApiErrors, Authenticated, MinPositionQuery, named, WithBody } from '../http/openapi';
import {
  INSTANCE_COMMAND_RESULT,
  JOB,
  JOB_COMMAND_RESULT,
  JOB_ERROR_RESULT,
  JOB_FAIL_RESULT,
  JOB_LIST,
  JOB_LOCK_RESULT,
  LOCKED_JOBS,
} from '../http/answers';
import { absent, jsonObject, ValidBody, ValidQuery } from '../http/validation';
import { PAGE_QUERY } from '../http/page-query';
import { FetchAndLockJobsCommand } from './job-broker';
import { instanceOf, JobIncidentQuery, JobListQuery, JobQuery, noSuchJob } from './jobs.queries';

/** The role a worker's token carries (admins may act as workers too). */
export const WORKER_ROLE = 'worker';
export const WORKER_ID = '^[A-Za-z0-9][A-Za-z0-9_.:@-]{0,99}$';
/** The longest a fetch waits for a job: below common proxy idle timeouts. */
export const MAX_FETCH_TIMEOUT_MS = 60_000;
export const MAX_FETCH_JOBS = 100;
const MAX_VARIABLES_BYTES = 64 * 1024;

const actorOf = (caller: Caller): Actor => ({ id: caller.id, roles: caller.roles });

/** Variables a worker hands back: plain data, bounded like an instance's. */
function checkVariables(variables: Record<string, unknown> | undefined): void {
  if (variables === undefined) return;
  if (JSON.stringify(variables).length > MAX_VARIABLES_BYTES) {
    throw new RequestInvalid('JOB.VARIABLES_TOO_LARGE', 'variables are limited to 64 KiB');
  }
  const issues = checkRecordData(variables, 'variables');
  if (issues.length > 0)
    throw new RequestInvalid('REQUEST.INVALID', 'variables are not plain, well-formed data', issues);
}

const workerId = (description: string) => z.string().regex(new RegExp(WORKER_ID)).meta({ description });
const lockDurationMs = z.number().int().min(JOB_LOCK_BOUNDS.minMs).max(JOB_LOCK_BOUNDS.maxMs);

const FETCH_AND_LOCK = named(
  'FetchAndLockDto',
  z.strictObject({
    workerId: workerId('who locks: one id per worker process'),
    types: z.array(z.string().regex(JOB_TYPE)).min(1).max(20).meta({ description: 'the job types this worker does' }),
    maxJobs: absent(z.number().int().min(1).max(MAX_FETCH_JOBS)).meta({ default: 10 }),
    lockDurationMs: lockDurationMs.meta({
      description: 'how long the jobs are this worker’s; after that they are offered again (a heartbeat extends it)',
    }),
    timeoutMs: absent(z.number().int().min(0).max(MAX_FETCH_TIMEOUT_MS)).meta({
      default: 0,
      description: 'long polling: with no job offered, wait up to this long and answer as soon as one is',
    }),
  }),
);

const WORKER = { workerId: workerId('the worker holding the job') };
const HEARTBEAT = named('HeartbeatDto', z.strictObject({ ...WORKER, lockDurationMs }));
const VARIABLES = { variables: absent(jsonObject('merged into the process variables (at most 64 KiB)')) };
const COMPLETE_JOB = named('CompleteJobDto', z.strictObject({ ...WORKER, ...VARIABLES }));
const FAIL_JOB = named(
  'FailJobDto',
  z.strictObject({
    ...WORKER,
    error: z.string().max(2000).meta({ description: 'what went wrong (shown to operators)' }),
    retries: absent(z.number().int().min(0).max(MAX_JOB_RETRIES)).meta({
      description: 'failures it may still have; by default one fewer than before. 0 raises an incident',
    }),
    backoff: absent(z.string().max(50)).meta({
      description: "ISO-8601 duration before it is offered again; by default the activity's retryBackoff",
    }),
  }),
);
const JOB_ERROR = named(
  'JobErrorDto',
  z.strictObject({
    ...WORKER,
    ...VARIABLES,
    code: z
      .string()
      .regex(ERROR_CODE)
      .meta({ description: "a business error code: the activity's `errors` map it to a path" }),
    message: absent(z.string().max(2000)),
  }),
);

const LIST_JOBS_QUERY = z.strictObject({
  ...PAGE_QUERY,
  state: JOB.shape.state.optional(),
  type: z.string().regex(JOB_TYPE).optional(),
  instanceId: z.string().max(36).optional(),
  workerId: z.string().regex(new RegExp(WORKER_ID)).optional(),
  incident: z.enum(['open', 'none']).optional().meta({ description: 'open: only jobs whose incident is open' }),
});

/**
 * The job-worker API (docs/decisions/0007-jobs.md): workers (role `worker`) fetch and lock jobs of
 * their types, extend their locks, and complete, fail or answer them with a business error; admins
 * and auditors list them, admins retry one whose failure raised an incident.
 */
@ApiTags('jobs')
@Authenticated()
@Controller('jobs')
export class JobsController {
  constructor(
    private readonly commands: CommandBus,
    private readonly queries: QueryBus,
  ) {}

  @Post('fetch-and-lock')
  @HttpCode(200)
  @RequireRoles(WORKER_ROLE)
  @ApiOperation({
    summary:
      'Lock up to maxJobs jobs of these types for lockDurationMs; with none offered, wait up to timeoutMs and answer as soon as one is',
  })
  @ApiAnswer(200, LOCKED_JOBS, 'The jobs now locked by this worker (an empty list when the wait ran out)')
  @ApiErrors(403, 503)
  @WithBody()
  async fetchAndLock(
    @ValidBody(FETCH_AND_LOCK) body: z.output<typeof FETCH_AND_LOCK>,
    @CurrentCaller() caller: Caller,
    @Req() request: Request,
    @Res({ passthrough: true }) response: Response,
  ) {
    // The connection closing before the answer is written: the worker has gone (stopped, or its poll timed out).
    const gone = new AbortController();
    response.once('close', () => {
      if (!response.writableFinished) gone.abort();
    });
    const jobs = await this.commands.execute(
      new FetchAndLockJobsCommand(
        {
          workerId: body.workerId,
          types: body.types,
          maxJobs: body.maxJobs ?? 10,
          lockDurationMs: body.lockDurationMs,
          timeoutMs: body.timeoutMs ?? 0,
        },
        actorOf(caller),
        originOf(request),
        gone.signal,
      ),
    );
    return { jobs };
  }

  @Post(':jobId/heartbeat')
  @HttpCode(200)
  @RequireRoles(WORKER_ROLE)
  @ApiOperation({ summary: 'Extend the lock: the job stays this worker’s for lockDurationMs from now' })
  @JobIdParam()
  @ApiAnswer(200, JOB_LOCK_RESULT)
  @ApiErrors(403, 404, 409)
  @WithBody()
  async heartbeat(
    @Param('jobId') jobId: string,
    @ValidBody(HEARTBEAT) body: z.output<typeof HEARTBEAT>,
    @CurrentCaller() caller: Caller,
    @Req() request: Request,
  ) {
    const result = await this.run(
      jobId,
      { type: 'ExtendJobLock', jobId, workerId: body.workerId, lockDurationMs: body.lockDurationMs },
      caller,
      request,
    );
    const extended = result.events.find((e) => e.type === 'JobLockExtended');
    return {
      jobId,
      lockExpiresAt: extended?.type === 'JobLockExtended' ? extended.data.lockExpiresAt : null,
      position: result.position,
    };
  }

  @Post(':jobId/complete')
  @HttpCode(200)
  @RequireRoles(WORKER_ROLE)
  @ApiOperation({
    summary: 'Complete the job: its variables join the process and the flow goes on (saying it twice changes nothing)',
  })
  @JobIdParam()
  @ApiAnswer(200, JOB_COMMAND_RESULT)
  @ApiErrors(403, 404, 409)
  @WithBody()
  async complete(
    @Param('jobId') jobId: string,
    @ValidBody(COMPLETE_JOB) body: z.output<typeof COMPLETE_JOB>,
    @CurrentCaller() caller: Caller,
    @Req() request: Request,
  ) {
    checkVariables(body.variables);
    const result = await this.run(
      jobId,
      { type: 'CompleteJob', jobId, workerId: body.workerId, ...(body.variables ? { variables: body.variables } : {}) },
      caller,
      request,
    );
    return { jobId, instanceId: result.instanceId, position: result.position };
  }

  @Post(':jobId/fail')
  @HttpCode(200)
  @RequireRoles(WORKER_ROLE)
  @ApiOperation({
    summary:
      'Fail the job: with retries left it is offered again (after its backoff); with none, an incident an operator retries',
  })
  @JobIdParam()
  @ApiAnswer(200, JOB_FAIL_RESULT)
  @ApiErrors(403, 404, 409)
  @WithBody()
  async fail(
    @Param('jobId') jobId: string,
    @ValidBody(FAIL_JOB) body: z.output<typeof FAIL_JOB>,
    @CurrentCaller() caller: Caller,
    @Req() request: Request,
  ) {
    const result = await this.run(
      jobId,
      {
        type: 'FailJob',
        jobId,
        workerId: body.workerId,
        error: body.error,
        ...(body.retries !== undefined ? { retries: body.retries } : {}),
        ...(body.backoff !== undefined ? { backoff: body.backoff } : {}),
      },
      caller,
      request,
    );
    const failed = result.events.find((e): e is JobFailed => e.type === 'JobFailed');
    const incident = result.events.find((e): e is IncidentRaised => e.type === 'IncidentRaised');
    return {
      jobId,
      instanceId: result.instanceId,
      position: result.position,
      retries: failed?.data.retries ?? null,
      retryAt: failed?.data.retryAt ?? null,
      incidentId: incident?.data.incidentId ?? null,
    };
  }

  @Post(':jobId/error')
  @HttpCode(200)
  @RequireRoles(WORKER_ROLE)
  @ApiOperation({
    summary:
      "Answer with a business error: the flow takes the path the activity's `errors` declare for the code, or raises an incident",
  })
  @JobIdParam()
  @ApiAnswer(200, JOB_ERROR_RESULT)
  @ApiErrors(403, 404, 409)
  @WithBody()
  async error(
    @Param('jobId') jobId: string,
    @ValidBody(JOB_ERROR) body: z.output<typeof JOB_ERROR>,
    @CurrentCaller() caller: Caller,
    @Req() request: Request,
  ) {
    checkVariables(body.variables);
    const result = await this.run(
      jobId,
      {
        type: 'ThrowJobError',
        jobId,
        workerId: body.workerId,
        code: body.code,
        ...(body.message !== undefined ? { message: body.message } : {}),
        ...(body.variables ? { variables: body.variables } : {}),
      },
      caller,
      request,
    );
    const thrown = result.events.find((e) => e.type === 'JobErrorThrown');
    const incident = result.events.find((e): e is IncidentRaised => e.type === 'IncidentRaised');
    return {
      jobId,
      instanceId: result.instanceId,
      position: result.position,
      next: thrown?.type === 'JobErrorThrown' ? (thrown.data.next ?? null) : null,
      incidentId: incident?.data.incidentId ?? null,
    };
  }

  @Get()
  @RequireRoles('admin', 'auditor')
  @ApiOperation({ summary: 'Jobs, the most recently changed first: by state, type, instance, worker or open incident' })
  @ApiAnswer(200, JOB_LIST)
  @ApiErrors(400, 403, 503)
  list(@ValidQuery(LIST_JOBS_QUERY) query: z.output<typeof LIST_JOBS_QUERY>) {
    const filter = {
      state: query.state,
      jobType: query.type,
      instanceId: query.instanceId,
      workerId: query.workerId,
      ...(query.incident !== undefined ? { openIncident: query.incident === 'open' } : {}),
      limit: query.limit,
      offset: query.offset,
    };
    return this.queries.execute(new JobListQuery(filter, query.minPosition));
  }

  @Get(':jobId')
  @RequireRoles('admin', 'auditor', WORKER_ROLE)
  @ApiOperation({ summary: 'A job: its state, retries left, lock, last error and incident' })
  @JobIdParam()
  @MinPositionQuery()
  @ApiAnswer(200, JOB)
  @ApiErrors(400, 403, 404, 503)
  get(@Param('jobId') jobId: string, @Query('minPosition') minPosition?: string) {
    return this.queries.execute(new JobQuery(jobId, minPosition));
  }

  @Post(':jobId/retry')
  @HttpCode(200)
  @RequireRoles('admin')
  @ApiOperation({
    summary:
      "Retry a job whose failure raised an incident (retries exhausted, or a business error with no path): its incident is retried, which creates a new job with the activity's retries",
  })
  @JobIdParam()
  @ApiAnswer(200, INSTANCE_COMMAND_RESULT)
  @ApiErrors(403, 404, 409, 503)
  async retry(@Param('jobId') jobId: string, @CurrentCaller() caller: Caller, @Req() request: Request) {
    const incidentId = await this.queries.execute(new JobIncidentQuery(jobId));
    return this.run(jobId, { type: 'RetryIncident', incidentId }, caller, request);
  }

  private async run(
    jobId: string,
    command: JobCommand | { type: 'RetryIncident'; incidentId: string },
    caller: Caller,
    request: Request,
  ): Promise<InstanceCommandResult> {
    const instanceId = instanceOf(jobId);
    try {
      return await this.commands.execute(
        new RunInstanceCommand(instanceId, command, actorOf(caller), originOf(request)),
      );
    } catch (error) {
      // A job id naming no instance is a job that does not exist.
      if (error instanceof InstanceNotFound) throw noSuchJob();
      throw error;
    }
  }
}

function JobIdParam() {
  return ApiParam({
    name: 'jobId',
    description: 'a job id: `<instanceId>.<activityId>.<visit>.<n>`',
    schema: { type: 'string', pattern: JOB_ID.source },
  });
}
