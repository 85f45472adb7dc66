import { Body, Controller, Get, HttpCode, Param, Post, Query, Req } from '@nestjs/common';
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
import { Type } from 'class-transformer';
import { IsIn, IsObject, IsOptional, IsString, Matches, MaxLength, ValidateNested } from 'class-validator';
import type { Request } from 'express';
import type { InstanceStatus } from '@lifeline/read-models';
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
  PATTERNS,
  WithBody,
} from '../http/openapi';
import { Absent } from '../http/validation';
import { PageQuery } from '../http/page-query';
import { checkInstanceId, InstanceHistoryQuery, InstanceListQuery, InstanceQuery } from './instances.queries';

const actorOf = (caller: Caller): Actor => ({ id: caller.id, roles: caller.roles });

const INCIDENT_ID = /^[A-Za-z_][A-Za-z0-9_]*-[0-9]{1,9}$/;

export class EntityRefDto {
  @ApiProperty({ pattern: PATTERNS.entityType }) @IsString() @Matches(new RegExp(PATTERNS.entityType)) type!: string;
  @ApiProperty({ maxLength: 200, pattern: '^[^\\u0000-\\u001f]+$' })
  @IsString()
  @MaxLength(200)
  @Matches(/^[^\u0000-\u001f]+$/)
  id!: string;
}

export class LaunchInstanceDto {
  @ApiProperty({ pattern: PATTERNS.definitionKey })
  @IsString()
  @Matches(new RegExp(PATTERNS.definitionKey))
  definitionKey!: string;
  @ApiProperty({ type: () => EntityRefDto })
  @IsObject()
  @ValidateNested()
  @Type(() => EntityRefDto)
  entity!: EntityRefDto;
  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: true,
    description: 'process variables (at most 64 KiB)',
  })
  @Absent()
  @IsObject()
  variables?: Record<string, unknown>;
}

export class ReasonDto {
  @ApiPropertyOptional({ maxLength: 1000 }) @Absent() @IsString() @MaxLength(1000) reason?: string;
}

export class ListInstancesQuery extends PageQuery {
  @ApiPropertyOptional({ maxLength: 63, description: 'a definition key' })
  @IsOptional()
  @IsString()
  @MaxLength(63)
  definition?: string;
  @ApiPropertyOptional({ maxLength: 100 }) @IsOptional() @IsString() @MaxLength(100) entityType?: string;
  @ApiPropertyOptional({ maxLength: 200 }) @IsOptional() @IsString() @MaxLength(200) entityId?: string;
  @ApiPropertyOptional({ enum: ['running', 'suspended', 'completed', 'terminated', 'incident'] })
  @IsOptional()
  @IsIn(['running', 'suspended', 'completed', 'terminated', 'incident'])
  status?: InstanceStatus;
  @ApiPropertyOptional({ enum: ['true', 'false'], description: 'only instances with (or without) open incidents' })
  @IsOptional()
  @IsIn(['true', 'false'])
  incidents?: string;
}

@ApiTags('instances')
@Authenticated()
@ApiExtraModels(LaunchInstanceDto, EntityRefDto, ReasonDto)
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
  @ApiBody({ type: LaunchInstanceDto })
  @ApiAnswer(201, 'InstanceCommandResult', 'Launched: the new instance id and the position of its last event')
  @ApiErrors(400, 403, 404, 409)
  @WithBody()
  async launch(
    @Body() body: LaunchInstanceDto,
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
  @ApiAnswer(200, 'InstanceList')
  @ApiErrors(400, 503)
  list(@Query() query: ListInstancesQuery, @CurrentCaller() caller: Caller) {
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
  @ApiAnswer(200, 'InstanceRow')
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
  @ApiAnswer(200, 'InstanceHistory')
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
  @ApiBody({ type: ReasonDto, required: false })
  @ApiAnswer(200, 'InstanceCommandResult')
  @ApiErrors(403, 404, 409)
  @WithBody()
  suspend(@Param('id') id: string, @Body() body: ReasonDto, @CurrentCaller() caller: Caller, @Req() request: Request) {
    return this.run(id, { type: 'SuspendInstance', ...(body.reason ? { reason: body.reason } : {}) }, caller, request);
  }

  @Post(':id/resume')
  @HttpCode(200)
  @RequireRoles('admin')
  @ApiOperation({ summary: 'Resume a suspended instance' })
  @InstanceIdParam()
  @ApiAnswer(200, 'InstanceCommandResult')
  @ApiErrors(400, 403, 404, 409)
  resume(@Param('id') id: string, @CurrentCaller() caller: Caller, @Req() request: Request) {
    return this.run(id, { type: 'ResumeInstance' }, caller, request);
  }

  @Post(':id/terminate')
  @HttpCode(200)
  @RequireRoles('admin')
  @ApiOperation({ summary: 'Terminate: the instance ends here and its open tasks are cancelled' })
  @InstanceIdParam()
  @ApiBody({ type: ReasonDto, required: false })
  @ApiAnswer(200, 'InstanceCommandResult')
  @ApiErrors(403, 404, 409)
  @WithBody()
  terminate(
    @Param('id') id: string,
    @Body() body: ReasonDto,
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
  @ApiAnswer(200, 'InstanceCommandResult')
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
