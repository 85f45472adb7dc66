import { Controller, Get, HttpCode, Param, Post, Req } from '@nestjs/common';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import { ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import type { Request } from 'express';
import { RetryStartCommand, type StartRetryResult } from '@lifeline/engine';
import { CurrentCaller, RequireRoles } from '../auth/auth.guard';
import type { Caller } from '../auth/jwt';
import { originOf } from '../http/origin';
import { ApiAnswer, ApiErrors, Authenticated, PATTERNS } from '../http/openapi';
import { START_FAILURE_LIST, START_RETRY_RESULT } from '../http/answers';
import { PAGE_QUERY } from '../http/page-query';
import { ValidQuery } from '../http/validation';
import { FAILURE_ID, StartFailureListQuery, StartFailureQuery } from './start-failures.queries';

const LIST_START_FAILURES_QUERY = z.strictObject({
  ...PAGE_QUERY,
  status: z.enum(['open', 'retried']).optional(),
  definition: z.string().max(63).optional().meta({ description: 'a definition key' }),
  entityType: z.string().regex(new RegExp(PATTERNS.entityType)).optional(),
  entityId: z.string().max(200).optional(),
});

/**
 * Starts of processes the engine could not make for a record (a trigger condition that failed, a
 * delay out of range, a decision that threw): listed for admins and auditors, retried by admins.
 */
@ApiTags('start failures')
@Authenticated()
@Controller('start-failures')
export class StartFailuresController {
  constructor(
    private readonly commands: CommandBus,
    private readonly queries: QueryBus,
  ) {}

  @Get()
  @RequireRoles('admin', 'auditor')
  @ApiOperation({ summary: 'Failed starts, newest first: what failed, its code and message, and whether retried' })
  @ApiAnswer(200, START_FAILURE_LIST)
  @ApiErrors(400, 403, 503)
  list(@ValidQuery(LIST_START_FAILURES_QUERY) query: z.output<typeof LIST_START_FAILURES_QUERY>) {
    const filter = {
      status: query.status,
      definitionKey: query.definition,
      entityType: query.entityType,
      entityId: query.entityId,
      limit: query.limit,
      offset: query.offset,
    };
    return this.queries.execute(new StartFailureListQuery(filter, query.minPosition));
  }

  @Post(':id/retry')
  @HttpCode(200)
  @RequireRoles('admin')
  @ApiOperation({
    summary:
      "Retry a failed start with the definition's latest version: its triggers are matched against the original entity event again",
  })
  @ApiParam({
    name: 'id',
    description: 'the failure id (UUID)',
    schema: { type: 'string', pattern: FAILURE_ID.source },
  })
  @ApiAnswer(200, START_RETRY_RESULT, 'Retried: started, scheduled again, or closed because nothing matches any more')
  @ApiErrors(403, 404, 409, 503)
  async retry(
    @Param('id') id: string,
    @CurrentCaller() caller: Caller,
    @Req() request: Request,
  ): Promise<StartRetryResult> {
    const failure = await this.queries.execute(new StartFailureQuery(id));
    return this.commands.execute(
      new RetryStartCommand(failure.entity, id, { id: caller.id, roles: caller.roles }, originOf(request)),
    );
  }
}
