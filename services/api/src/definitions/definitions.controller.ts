import { Body, Controller, Get, Headers, HttpCode, Param, Patch, Post, Query, Req } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { ApiBody, ApiConsumes, ApiExtraModels, ApiOperation, ApiProperty, ApiQuery, ApiTags } from '@nestjs/swagger';
import { IsInt, Max, Min } from 'class-validator';
import type { Request } from 'express';
import { getDefinition, listDefinitions } from '@lifeline/read-models';
import { ChangeDefinitionCommand, PublishDefinitionCommand, type DefinitionCommandResult } from '@lifeline/engine';
import { CurrentCaller, RequireRoles } from '../auth/auth.guard';
import type { Caller } from '../auth/jwt';
import { NotFound, RequestInvalid } from '../http/api-errors';
import { originOf } from '../http/origin';
import { ReadSide } from '../http/read-side';
import {
  ApiAnswer,
  ApiErrors,
  Authenticated,
  DefinitionKeyParam,
  MinPositionQuery,
  OPTIONAL_ENTITY_TYPE,
  PATTERNS,
  WithBody,
} from '../http/openapi';

const KEY = /^[a-z0-9][a-z0-9-]{0,62}$/;
const checkKey = (key: string): string => {
  if (!KEY.test(key)) throw new NotFound('DEFINITION.NOT_FOUND', `No definition ${key.slice(0, 80)}`);
  return key;
};

export class ChangeExecutionOrderDto {
  @ApiProperty({ type: 'integer', minimum: -1_000_000, maximum: 1_000_000, description: 'smaller starts first' })
  @IsInt()
  @Min(-1_000_000)
  @Max(1_000_000)
  executionOrder!: number;
}

@ApiTags('definitions')
@Authenticated()
@ApiExtraModels(ChangeExecutionOrderDto)
@Controller('definitions')
export class DefinitionsController {
  constructor(
    private readonly commands: CommandBus,
    private readonly read: ReadSide,
  ) {}

  @Post()
  @HttpCode(201)
  @RequireRoles('admin')
  @ApiOperation({
    summary: 'Publish a definition (YAML or JSON body); an invalid one is refused with every error by path',
  })
  @ApiConsumes('application/json', 'application/yaml', 'application/x-yaml', 'text/yaml', 'text/plain')
  @ApiBody({
    description: 'The definition (README, "Defining a process"): a JSON object, or its YAML text',
    schema: { $ref: '#/components/schemas/ProcessDefinition' },
  })
  @ApiAnswer(201, 'DefinitionCommandResult', 'Published: the key and its new version')
  @ApiErrors(403, 409)
  @WithBody()
  async publish(
    @Body() body: unknown,
    @Headers('content-type') contentType: string | undefined,
    @CurrentCaller() caller: Caller,
    @Req() request: Request,
  ): Promise<DefinitionCommandResult> {
    let text: string;
    if (typeof body === 'string') text = body;
    else if (body && typeof body === 'object' && Object.keys(body).length > 0) text = JSON.stringify(body);
    else throw new RequestInvalid('DEFINITION.EMPTY', 'Send the definition as YAML or JSON in the body');
    return this.commands.execute(new PublishDefinitionCommand(text, contentType, caller.id, originOf(request)));
  }

  @Get()
  @ApiOperation({ summary: 'The process grid' })
  @MinPositionQuery()
  @ApiQuery({
    name: 'relatedEntity',
    required: false,
    schema: { type: 'string', pattern: PATTERNS.optionalEntityType },
  })
  @ApiQuery({
    name: 'startable',
    required: false,
    description: 'true: only the enabled definitions the caller may start by hand (admin, or a startableBy role)',
    schema: { type: 'string', enum: ['true', 'false'] },
  })
  @ApiAnswer(200, 'DefinitionList')
  @ApiErrors(400, 503)
  async list(
    @CurrentCaller() caller: Caller,
    @Query('minPosition') minPosition?: string,
    @Query('relatedEntity') relatedEntity?: string,
    @Query('startable') startable?: string,
  ) {
    if (
      relatedEntity !== undefined &&
      (typeof relatedEntity !== 'string' || !OPTIONAL_ENTITY_TYPE.test(relatedEntity))
    ) {
      throw new RequestInvalid('QUERY.INVALID', 'relatedEntity must be a record type');
    }
    if (startable !== undefined && startable !== 'true' && startable !== 'false') {
      throw new RequestInvalid('QUERY.INVALID', 'startable must be true or false');
    }
    const { position } = await this.read.atLeast(minPosition, ['process-grid']);
    const filter = {
      ...(relatedEntity ? { relatedEntity } : {}),
      ...(startable === 'true' ? { startableBy: { id: caller.id, roles: caller.roles } } : {}),
    };
    return { position, items: listDefinitions(this.read.db, filter) };
  }

  @Get(':key')
  @ApiOperation({ summary: 'A definition with its triggers and versions' })
  @DefinitionKeyParam()
  @MinPositionQuery()
  @ApiAnswer(200, 'DefinitionDetails')
  @ApiErrors(400, 404, 503)
  async get(@Param('key') key: string, @Query('minPosition') minPosition?: string) {
    await this.read.atLeast(minPosition, ['process-grid']);
    const found = getDefinition(this.read.db, checkKey(key));
    if (!found) throw new NotFound('DEFINITION.NOT_FOUND', `No definition ${key}`);
    return found;
  }

  @Post(':key/activate')
  @HttpCode(200)
  @RequireRoles('admin')
  @ApiOperation({ summary: 'Enable: its triggers start instances again' })
  @DefinitionKeyParam()
  @ApiAnswer(200, 'DefinitionCommandResult')
  @ApiErrors(400, 403, 404, 409)
  activate(
    @Param('key') key: string,
    @CurrentCaller() caller: Caller,
    @Req() request: Request,
  ): Promise<DefinitionCommandResult> {
    return this.commands.execute(
      new ChangeDefinitionCommand(checkKey(key), { type: 'ActivateDefinition', key }, caller.id, originOf(request)),
    );
  }

  @Post(':key/deactivate')
  @HttpCode(200)
  @RequireRoles('admin')
  @ApiOperation({ summary: 'Disable: its triggers start nothing until it is activated' })
  @DefinitionKeyParam()
  @ApiAnswer(200, 'DefinitionCommandResult')
  @ApiErrors(400, 403, 404, 409)
  deactivate(
    @Param('key') key: string,
    @CurrentCaller() caller: Caller,
    @Req() request: Request,
  ): Promise<DefinitionCommandResult> {
    return this.commands.execute(
      new ChangeDefinitionCommand(checkKey(key), { type: 'DeactivateDefinition', key }, caller.id, originOf(request)),
    );
  }

  @Patch(':key')
  @RequireRoles('admin')
  @ApiOperation({ summary: 'Change the execution order' })
  @DefinitionKeyParam()
  @ApiBody({ type: ChangeExecutionOrderDto })
  @ApiAnswer(200, 'DefinitionCommandResult')
  @ApiErrors(403, 404, 409)
  @WithBody()
  changeOrder(
    @Param('key') key: string,
    @Body() body: ChangeExecutionOrderDto,
    @CurrentCaller() caller: Caller,
    @Req() request: Request,
  ): Promise<DefinitionCommandResult> {
    return this.commands.execute(
      new ChangeDefinitionCommand(
        checkKey(key),
        { type: 'ChangeExecutionOrder', key, executionOrder: body.executionOrder },
        caller.id,
        originOf(request),
      ),
    );
  }
}
