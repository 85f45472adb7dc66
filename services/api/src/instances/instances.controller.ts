import { Controller, Get, HttpCode, Param, Post, Query, Req } from '@nestjs/common';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import { ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import type { Request } from 'express';
import { checkRecordData, type Actor, type InstanceCommand } from '@lifeline/process-domain';
import { LaunchInstanceCommand, RunInstanceCommand, type InstanceCommandResult } from '@lifeline/engine';
import { CurrentCaller, RequireRoles } from '../auth/auth.guard';
import type { Caller } from '../auth/jwt';
import { NotFound, RequestInvalid } from '../http/api-errors';
import { originOf } from '../http/origin';
import {
  ApiAnswer,
  ApiErrors,
  AsOfQuery,
  AsOfUnavailableAnswer,
  Authenticated,
  InstanceIdParam,
  MinPositionQuery,
  named,
  PATTERNS,
  WithBody,
} from '../http/openapi';
import {
  INSTANCE_COMMAND_RESULT,
  INSTANCE_HISTORY,
  INSTANCE_LIST,
  INSTANCE_ROW,
  INSTANCE_STATE,
} from '../http/answers';
import { absent, jsonObject, ValidBody, ValidQuery } from '../http/validation';
import { PAGE_QUERY } from '../http/page-query';
import { checkInstanceId, InstanceHistoryQuery, InstanceListQuery, InstanceQuery } from './instances.queries';

const actorOf = (caller: Caller): Actor => ({ id: caller.id, roles: caller.roles });

const INCIDENT_ID = /^[A-Za-z_][A-Za-z0-9_]*-[0-9]{1,9}$/;

const ENTITY_REF_BODY = named(
  'EntityRefDto',
  z.strictObject({
    type: z.string().regex(new RegExp(PATTERNS.entityType)),
    id: z
      .string()
      .max(200)
      .regex(/^[^\u0000-\u001f]+$/),
  }),
);

const LAUNCH_INSTANCE = named(
  'LaunchInstanceDto',
  z.strictObject({
    definitionKey: z.string().regex(new RegExp(PATTERNS.definitionKey)),
    entity: ENTITY_REF_BODY,
    variables: absent(jsonObject('process variables (at most 64 KiB)')),
  }),
);

const REASON = named('ReasonDto', z.strictObject({ reason: absent(z.string().max(1000)) }));

const LIST_INSTANCES_QUERY = z.strictObject({
  ...PAGE_QUERY,
  definition: z.string().max(63).optional().meta({ description: 'a definition key' }),
  entityType: z.string().max(100).optional(),
  entityId: z.string().max(200).optional(),
  status: INSTANCE_ROW.shape.status.optional(),
  incidents: z
    .enum(['true', 'false'])
    .optional()
    .meta({ description: 'only instances with (or without) open incidents' }),
});
type ListInstancesQuery = z.output<typeof LIST_INSTANCES_QUERY>;

@ApiTags('instances')
@Authenticated()
@Controller('instances')
export class InstancesController {
  constructor(
    private readonly commands: CommandBus,
    private readonly queries: QueryBus,
  ) {}

  @Post()
  @HttpCode(201)
  @ApiOperation({
    summary:
      'Start the latest version of a definition by hand for a record: admins, and the roles its startableBy names',
  })
  @ApiAnswer(201, INSTANCE_COMMAND_RESULT, 'Launched: the new instance id and the position of its last event')
  @ApiErrors(400, 403, 404, 409)
  @WithBody()
  async launch(
    @ValidBody(LAUNCH_INSTANCE) body: z.output<typeof LAUNCH_INSTANCE>,
    @CurrentCaller() caller: Caller,
    @Req() request: Request,
  ): Promise<InstanceCommandResult> {
    if (JSON.stringify(body.variables ?? {}).length > 64 * 1024)
      throw new RequestInvalid('INSTANCE.VARIABLES_TOO_LARGE', 'variables are limited to 64 KiB');
    const issues = body.variables ? checkRecordData(body.variables, 'variables') : [];
    if (issues.length > 0)
      throw new RequestInvalid('REQUEST.INVALID', 'variables are not plain, well-formed data', issues);
    // Who may start it, and whether it may start now, is the engine's decision (decideManualStart).
    return this.commands.execute(
      new LaunchInstanceCommand(
        {
          definitionKey: body.definitionKey,
          entity: { type: body.entity.type, id: body.entity.id },
          variables: body.variables ?? {},
        },
        actorOf(caller),
        originOf(request),
      ),
    );
  }

  @Get()
  @ApiOperation({ summary: 'Instances, filtered by definition, record, status or open incidents' })
  @ApiAnswer(200, INSTANCE_LIST)
  @ApiErrors(400, 503)
  list(@ValidQuery(LIST_INSTANCES_QUERY) query: ListInstancesQuery, @CurrentCaller() caller: Caller) {
    const filter = {
      definitionKey: query.definition,
      entityType: query.entityType,
      entityId: query.entityId,
      status: query.status,
      hasIncident: query.incidents === undefined ? undefined : query.incidents === 'true',
      limit: query.limit,
      offset: query.offset,
    };
    return this.queries.execute(new InstanceListQuery(filter, caller, query.minPosition));
  }

  @Get(':id')
  @ApiOperation({ summary: "An instance's state; with asOf, as it was then" })
  @InstanceIdParam()
  @MinPositionQuery()
  @AsOfQuery()
  @ApiAnswer(200, INSTANCE_STATE)
  @ApiErrors(400, 404)
  @AsOfUnavailableAnswer()
  get(
    @Param('id') id: string,
    @CurrentCaller() caller: Caller,
    @Query('minPosition') minPosition?: string,
    @Query('asOf') asOf?: string,
  ) {
    return this.queries.execute(new InstanceQuery(id, caller, minPosition, asOf));
  }

  @Get(':id/history')
  @ApiOperation({ summary: "The instance's events in order: position, type, at, actor, data" })
  @InstanceIdParam()
  @ApiAnswer(200, INSTANCE_HISTORY)
  @ApiErrors(400, 404, 503)
  history(@Param('id') id: string, @CurrentCaller() caller: Caller) {
    return this.queries.execute(new InstanceHistoryQuery(id, caller));
  }

  private run(id: string, command: InstanceCommand, caller: Caller, request: Request): Promise<InstanceCommandResult> {
    return this.commands.execute(
      new RunInstanceCommand(checkInstanceId(id), command, actorOf(caller), originOf(request)),
    );
  }

  @Post(':id/suspend')
  @HttpCode(200)
  @RequireRoles('admin')
  @ApiOperation({ summary: 'Suspend: nothing moves until it is resumed' })
  @InstanceIdParam()
  @ApiAnswer(200, INSTANCE_COMMAND_RESULT)
  @ApiErrors(403, 404, 409)
  @WithBody()
  suspend(
    @Param('id') id: string,
    @ValidBody(REASON, { required: false }) body: z.output<typeof REASON>,
    @CurrentCaller() caller: Caller,
    @Req() request: Request,
  ) {
    return this.run(id, { type: 'SuspendInstance', ...(body.reason ? { reason: body.reason } : {}) }, caller, request);
  }

  @Post(':id/resume')
  @HttpCode(200)
  @RequireRoles('admin')
  @ApiOperation({ summary: 'Resume a suspended instance' })
  @InstanceIdParam()
  @ApiAnswer(200, INSTANCE_COMMAND_RESULT)
  @ApiErrors(400, 403, 404, 409)
  resume(@Param('id') id: string, @CurrentCaller() caller: Caller, @Req() request: Request) {
    return this.run(id, { type: 'ResumeInstance' }, caller, request);
  }

  @Post(':id/terminate')
  @HttpCode(200)
  @RequireRoles('admin')
  @ApiOperation({ summary: 'Terminate: the instance ends here and its open tasks are cancelled' })
  @InstanceIdParam()
  @ApiAnswer(200, INSTANCE_COMMAND_RESULT)
  @ApiErrors(403, 404, 409)
  @WithBody()
  terminate(
    @Param('id') id: string,
    @ValidBody(REASON, { required: false }) body: z.output<typeof REASON>,
    @CurrentCaller() caller: Caller,
    @Req() request: Request,
  ) {
    return this.run(
      id,
      { type: 'TerminateInstance', ...(body.reason ? { reason: body.reason } : {}) },
      caller,
      request,
    );
  }

  @Post(':id/incidents/:incidentId/retry')
  @HttpCode(200)
  @RequireRoles('admin')
  @ApiOperation({ summary: 'Retry the activity where an incident stopped the instance' })
  @InstanceIdParam()
  @ApiParam({
    name: 'incidentId',
    description: '`<activityId>-<n>`',
    schema: { type: 'string', pattern: INCIDENT_ID.source },
  })
  @ApiAnswer(200, INSTANCE_COMMAND_RESULT)
  @ApiErrors(400, 403, 404, 409)
  retry(
    @Param('id') id: string,
    @Param('incidentId') incidentId: string,
    @CurrentCaller() caller: Caller,
    @Req() request: Request,
  ) {
    if (!INCIDENT_ID.test(incidentId)) throw new NotFound('INCIDENT.NOT_FOUND', 'No such incident');
    return this.run(id, { type: 'RetryIncident', incidentId }, caller, request);
  }
}
