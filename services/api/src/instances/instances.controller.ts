import { Body, Controller, Get, HttpCode, Param, Post, Query, Req } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsObject, IsOptional, IsString, Matches, MaxLength, Min, Max, ValidateNested } from 'class-validator';
import type { Request } from 'express';
import { randomUUID } from 'node:crypto';
import { getInstance, listInstances, type InstanceStatus } from '@lifeline/read-models';
import { parseAsOf, readModelsAsOf } from '../../../../libs/audit/src';
import { checkRecordData, streams, type Actor, type InstanceCommand } from '@lifeline/process-domain';
import { EngineRuntime, RunInstanceCommand, type InstanceCommandResult } from '@lifeline/engine';
import { CurrentCaller, RequireRoles } from '../auth/auth.guard';
import type { Caller } from '../auth/jwt';
import { NotFound, RequestInvalid } from '../http/api-errors';
import { originOf } from '../http/origin';
import { ReadSide } from '../http/read-side';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
export const checkInstanceId = (id: string): string => {
  if (!UUID.test(id)) throw new NotFound('INSTANCE.NOT_FOUND', 'No such instance');
  return id;
};
const actorOf = (caller: Caller): Actor => ({ id: caller.id, roles: caller.roles });

class EntityRefDto {
  @IsString() @Matches(/^[A-Za-z][A-Za-z0-9_]{0,99}$/) type!: string;
  @IsString() @MaxLength(200) @Matches(/^[^\u0000-\u001f]+$/) id!: string;
}

export class LaunchInstanceDto {
  @IsString() @Matches(/^[a-z0-9][a-z0-9-]{0,62}$/) definitionKey!: string;
  @ValidateNested() @Type(() => EntityRefDto) entity!: EntityRefDto;
  @IsOptional() @IsObject() variables?: Record<string, unknown>;
}

export class ReasonDto {
  @IsOptional() @IsString() @MaxLength(1000) reason?: string;
}

export class ListInstancesQuery {
  @IsOptional() @IsString() @MaxLength(63) definition?: string;
  @IsOptional() @IsString() @MaxLength(100) entityType?: string;
  @IsOptional() @IsString() @MaxLength(200) entityId?: string;
  @IsOptional() @IsIn(['running', 'suspended', 'completed', 'terminated', 'incident']) status?: InstanceStatus;
  @IsOptional() @IsIn(['true', 'false']) incidents?: string;
  @IsOptional() @Type(() => Number) @IsInt() @Min(1) @Max(500) limit?: number;
  @IsOptional() @Type(() => Number) @IsInt() @Min(0) offset?: number;
  @IsOptional() @IsString() minPosition?: string;
}

@ApiTags('instances')
@ApiBearerAuth()
@Controller('instances')
export class InstancesController {
  constructor(
    private readonly commands: CommandBus,
    private readonly read: ReadSide,
    private readonly engine: EngineRuntime,
  ) {}

  @Post()
  @HttpCode(201)
  @RequireRoles('admin')
  @ApiOperation({ summary: 'Launch an instance of the latest version of a definition for a record' })
  async launch(@Body() body: LaunchInstanceDto, @CurrentCaller() caller: Caller, @Req() request: Request): Promise<InstanceCommandResult & { instanceId: string }> {
    const latest = await this.engine.catalog.latest(body.definitionKey);
    if (!latest) throw new NotFound('DEFINITION.NOT_FOUND', `No definition ${body.definitionKey}`);
    if (latest.definition.relatedEntity !== body.entity.type) {
      throw new RequestInvalid('INSTANCE.WRONG_ENTITY_TYPE', `${body.definitionKey} is about ${latest.definition.relatedEntity}, not ${body.entity.type}`);
    }
    if (JSON.stringify(body.variables ?? {}).length > 64 * 1024) throw new RequestInvalid('INSTANCE.VARIABLES_TOO_LARGE', 'variables are limited to 64 KiB');
    const issues = body.variables ? checkRecordData(body.variables, 'variables') : [];
    if (issues.length > 0) throw new RequestInvalid('REQUEST.INVALID', 'variables are not plain, well-formed data', issues);
    const instanceId = randomUUID();
    const result: InstanceCommandResult = await this.commands.execute(
      new RunInstanceCommand(
        instanceId,
        {
          type: 'StartInstance',
          instanceId,
          definitionKey: body.definitionKey,
          definitionVersion: latest.version,
          entity: { type: body.entity.type, id: body.entity.id },
          variables: body.variables ?? {},
          cause: { kind: 'api' },
        },
        actorOf(caller),
        originOf(request),
      ),
    );
    return { ...result, instanceId };
  }

  @Get()
  async list(@Query() query: ListInstancesQuery) {
    const { position } = await this.read.atLeast(query.minPosition);
    const items = listInstances(this.read.db, {
      definitionKey: query.definition,
      entityType: query.entityType,
      entityId: query.entityId,
      status: query.status,
      hasIncident: query.incidents === undefined ? undefined : query.incidents === 'true',
      limit: query.limit,
      offset: query.offset,
    });
    return { position, items };
  }

  @Get(':id')
  async get(@Param('id') id: string, @Query('minPosition') minPosition?: string, @Query('asOf') asOf?: string) {
    checkInstanceId(id);
    if (asOf !== undefined) {
      // The instance as it was then, rebuilt in memory from the log up to that point (docs/audit.md).
      const past = await readModelsAsOf(this.engine.store, parseAsOf(asOf));
      try {
        const then = getInstance(past.sql, id);
        if (!then) throw new NotFound('INSTANCE.NOT_FOUND', 'No such instance at that point');
        return { ...then, asOf: { position: past.position, at: past.now } };
      } finally {
        past.close();
      }
    }
    await this.read.atLeast(minPosition);
    const found = getInstance(this.read.db, id);
    if (!found) throw new NotFound('INSTANCE.NOT_FOUND', 'No such instance');
    return found;
  }

  @Get(':id/history')
  @ApiOperation({ summary: "The instance's events in order: position, type, at, actor, data" })
  async history(@Param('id') id: string) {
    const events = await this.engine.store.readStream(streams.instance(checkInstanceId(id)));
    if (events.length === 0) throw new NotFound('INSTANCE.NOT_FOUND', 'No such instance');
    return {
      instanceId: id,
      items: events.map((e) => ({
        position: e.position,
        revision: e.revision,
        type: e.type,
        at: e.metadata.at,
        actor: e.metadata.actor,
        messageId: e.id,
        correlationId: e.metadata.correlationId,
        causationId: e.metadata.causationId,
        data: e.data,
      })),
    };
  }

  private run(id: string, command: InstanceCommand, caller: Caller, request: Request): Promise<InstanceCommandResult> {
    return this.commands.execute(new RunInstanceCommand(checkInstanceId(id), command, actorOf(caller), originOf(request)));
  }

  @Post(':id/suspend')
  @HttpCode(200)
  @RequireRoles('admin')
  suspend(@Param('id') id: string, @Body() body: ReasonDto, @CurrentCaller() caller: Caller, @Req() request: Request) {
    return this.run(id, { type: 'SuspendInstance', ...(body.reason ? { reason: body.reason } : {}) }, caller, request);
  }

  @Post(':id/resume')
  @HttpCode(200)
  @RequireRoles('admin')
  resume(@Param('id') id: string, @CurrentCaller() caller: Caller, @Req() request: Request) {
    return this.run(id, { type: 'ResumeInstance' }, caller, request);
  }

  @Post(':id/terminate')
  @HttpCode(200)
  @RequireRoles('admin')
  terminate(@Param('id') id: string, @Body() body: ReasonDto, @CurrentCaller() caller: Caller, @Req() request: Request) {
    return this.run(id, { type: 'TerminateInstance', ...(body.reason ? { reason: body.reason } : {}) }, caller, request);
  }

  @Post(':id/incidents/:incidentId/retry')
  @HttpCode(200)
  @RequireRoles('admin')
  @ApiOperation({ summary: 'Retry the activity where an incident stopped the instance' })
  retry(@Param('id') id: string, @Param('incidentId') incidentId: string, @CurrentCaller() caller: Caller, @Req() request: Request) {
    return this.run(id, { type: 'RetryIncident', incidentId }, caller, request);
  }
}
