import { Body, Controller, Get, HttpCode, Param, Post, Query, Req, Res } from '@nestjs/common';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import {
  ApiBody,
  ApiExtraModels,
  ApiOperation,
  ApiParam,
  ApiProperty,
  ApiPropertyOptional,
  ApiTags,
} from '@nestjs/swagger';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsIn,
  IsInt,
  IsObject,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
} from 'class-validator';
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
import type { JobStateName } from '@lifeline/read-models';
import { RunInstanceCommand, type InstanceCommandResult } from '@lifeline/engine';
import { CurrentCaller, RequireRoles } from '../auth/auth.guard';
import type { Caller } from '../auth/jwt';
import { RequestInvalid } from '../http/api-errors';
import { originOf } from '../http/origin';
import { ApiAnswer, ApiErrors, Authenticated, MinPositionQuery, WithBody } from '../http/openapi';
import { Absent } from '../http/validation';
import { PageQuery } from '../http/page-query';
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

export class FetchAndLockDto {
  @ApiProperty({ pattern: WORKER_ID, description: 'who locks: one id per worker process' })
  @IsString()
  @Matches(new RegExp(WORKER_ID))
  workerId!: string;
  @ApiProperty({
    type: [String],
    minItems: 1,
    maxItems: 20,
    items: { type: 'string', pattern: JOB_TYPE.source },
    description: 'the job types this worker does',
  })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(20)
  @IsString({ each: true })
  @Matches(JOB_TYPE, { each: true })
  types!: string[];
  @ApiPropertyOptional({ type: 'integer', minimum: 1, maximum: MAX_FETCH_JOBS, default: 10 })
  @Absent()
  @IsInt()
  @Min(1)
  @Max(MAX_FETCH_JOBS)
  maxJobs?: number;
  @ApiProperty({
    type: 'integer',
    minimum: JOB_LOCK_BOUNDS.minMs,
    maximum: JOB_LOCK_BOUNDS.maxMs,
    description: 'how long the jobs are this worker’s; after that they are offered again (a heartbeat extends it)',
  })
  @IsInt()
  @Min(JOB_LOCK_BOUNDS.minMs)
  @Max(JOB_LOCK_BOUNDS.maxMs)
  lockDurationMs!: number;
  @ApiPropertyOptional({
    type: 'integer',
    minimum: 0,
    maximum: MAX_FETCH_TIMEOUT_MS,
    default: 0,
    description: 'long polling: with no job offered, wait up to this long and answer as soon as one is',
  })
  @Absent()
  @IsInt()
  @Min(0)
  @Max(MAX_FETCH_TIMEOUT_MS)
  timeoutMs?: number;
}

export class WorkerDto {
  @ApiProperty({ pattern: WORKER_ID, description: 'the worker holding the job' })
  @IsString()
  @Matches(new RegExp(WORKER_ID))
  workerId!: string;
}

export class HeartbeatDto extends WorkerDto {
  @ApiProperty({ type: 'integer', minimum: JOB_LOCK_BOUNDS.minMs, maximum: JOB_LOCK_BOUNDS.maxMs })
  @IsInt()
  @Min(JOB_LOCK_BOUNDS.minMs)
  @Max(JOB_LOCK_BOUNDS.maxMs)
  lockDurationMs!: number;
}

export class CompleteJobDto extends WorkerDto {
  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: true,
    description: 'merged into the process variables (at most 64 KiB)',
  })
  @Absent()
  @IsObject()
  variables?: Record<string, unknown>;
}

export class FailJobDto extends WorkerDto {
  @ApiProperty({ maxLength: 2000, description: 'what went wrong (shown to operators)' })
  @IsString()
  @MaxLength(2000)
  error!: string;
  @ApiPropertyOptional({
    type: 'integer',
    minimum: 0,
    maximum: MAX_JOB_RETRIES,
    description: 'failures it may still have; by default one fewer than before. 0 raises an incident',
  })
  @Absent()
  @IsInt()
  @Min(0)
  @Max(MAX_JOB_RETRIES)
  retries?: number;
  @ApiPropertyOptional({
    maxLength: 50,
    description: "ISO-8601 duration before it is offered again; by default the activity's retryBackoff",
  })
  @Absent()
  @IsString()
  @MaxLength(50)
  backoff?: string;
}

export class JobErrorDto extends CompleteJobDto {
  @ApiProperty({
    pattern: ERROR_CODE.source,
    description: "a business error code: the activity's `errors` map it to a path",
  })
  @IsString()
  @Matches(ERROR_CODE)
  code!: string;
  @ApiPropertyOptional({ maxLength: 2000 }) @Absent() @IsString() @MaxLength(2000) message?: string;
}

const JOB_STATES: JobStateName[] = ['available', 'locked', 'backoff', 'completed', 'failed', 'errored', 'cancelled'];

export class ListJobsQuery extends PageQuery {
  @ApiPropertyOptional({ enum: JOB_STATES }) @IsOptional() @IsIn(JOB_STATES) state?: JobStateName;
  @ApiPropertyOptional({ pattern: JOB_TYPE.source }) @IsOptional() @IsString() @Matches(JOB_TYPE) type?: string;
  @ApiPropertyOptional({ maxLength: 36 }) @IsOptional() @IsString() @MaxLength(36) instanceId?: string;
  @ApiPropertyOptional({ pattern: WORKER_ID })
  @IsOptional()
  @IsString()
  @Matches(new RegExp(WORKER_ID))
  workerId?: string;
  @ApiPropertyOptional({ enum: ['open', 'none'], description: 'open: only jobs whose incident is open' })
  @IsOptional()
  @IsIn(['open', 'none'])
  incident?: 'open' | 'none';
}

/**
 * The job-worker API (docs/decisions/0007-jobs.md): workers (role `worker`) fetch and lock jobs of
 * their types, extend their locks, and complete, fail or answer them with a business error; admins
 * and auditors list them, admins retry one whose failure raised an incident.
 */
@ApiTags('jobs')
@Authenticated()
@ApiExtraModels(FetchAndLockDto, HeartbeatDto, CompleteJobDto, FailJobDto, JobErrorDto)
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
  @ApiBody({ type: FetchAndLockDto })
  @ApiAnswer(200, 'LockedJobs', 'The jobs now locked by this worker (an empty list when the wait ran out)')
  @ApiErrors(403, 503)
  @WithBody()
  async fetchAndLock(
    @Body() body: FetchAndLockDto,
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
  @ApiBody({ type: HeartbeatDto })
  @ApiAnswer(200, 'JobLockResult')
  @ApiErrors(403, 404, 409)
  @WithBody()
  async heartbeat(
    @Param('jobId') jobId: string,
    @Body() body: HeartbeatDto,
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
  @ApiBody({ type: CompleteJobDto })
  @ApiAnswer(200, 'JobCommandResult')
  @ApiErrors(403, 404, 409)
  @WithBody()
  async complete(
    @Param('jobId') jobId: string,
    @Body() body: CompleteJobDto,
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
  @ApiBody({ type: FailJobDto })
  @ApiAnswer(200, 'JobFailResult')
  @ApiErrors(403, 404, 409)
  @WithBody()
  async fail(
    @Param('jobId') jobId: string,
    @Body() body: FailJobDto,
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
  @ApiBody({ type: JobErrorDto })
  @ApiAnswer(200, 'JobErrorResult')
  @ApiErrors(403, 404, 409)
  @WithBody()
  async error(
    @Param('jobId') jobId: string,
    @Body() body: JobErrorDto,
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
  @ApiAnswer(200, 'JobList')
  @ApiErrors(400, 403, 503)
  list(@Query() query: ListJobsQuery) {
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
  @ApiAnswer(200, 'Job')
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
  @ApiAnswer(200, 'InstanceCommandResult')
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
