import { Body, Controller, Get, Headers, HttpCode, Param, Patch, Post, Query, Req } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { ApiBearerAuth, ApiBody, ApiConsumes, ApiOperation, ApiTags } from '@nestjs/swagger';
import { IsInt, Max, Min } from 'class-validator';
import type { Request } from 'express';
import { getDefinition, listDefinitions } from '@lifeline/read-models';
import { ChangeDefinitionCommand, PublishDefinitionCommand, type DefinitionCommandResult } from '@lifeline/engine';
import { CurrentCaller, RequireRoles } from '../auth/auth.guard';
import type { Caller } from '../auth/jwt';
import { NotFound, RequestInvalid } from '../http/api-errors';
import { originOf } from '../http/origin';
import { ReadSide } from '../http/read-side';

const KEY = /^[a-z0-9][a-z0-9-]{0,62}$/;
const checkKey = (key: string): string => {
  if (!KEY.test(key)) throw new NotFound('DEFINITION.NOT_FOUND', `No definition ${key.slice(0, 80)}`);
  return key;
};

export class ChangeExecutionOrderDto {
  @IsInt()
  @Min(-1_000_000)
  @Max(1_000_000)
  executionOrder!: number;
}

@ApiTags('definitions')
@ApiBearerAuth()
@Controller('definitions')
export class DefinitionsController {
  constructor(
    private readonly commands: CommandBus,
    private readonly read: ReadSide,
  ) {}

  @Post()
  @HttpCode(201)
  @RequireRoles('admin')
  @ApiOperation({ summary: 'Publish a definition (YAML or JSON body); an invalid one is refused with every error by path' })
  @ApiConsumes('application/json', 'application/yaml', 'text/yaml', 'text/plain')
  @ApiBody({ schema: { type: 'object', additionalProperties: true } })
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
  async list(@Query('minPosition') minPosition?: string, @Query('relatedEntity') relatedEntity?: string) {
    const { position } = await this.read.atLeast(minPosition);
    return { position, items: listDefinitions(this.read.db, relatedEntity ? { relatedEntity } : {}) };
  }

  @Get(':key')
  @ApiOperation({ summary: 'A definition with its triggers and versions' })
  async get(@Param('key') key: string, @Query('minPosition') minPosition?: string) {
    await this.read.atLeast(minPosition);
    const found = getDefinition(this.read.db, checkKey(key));
    if (!found) throw new NotFound('DEFINITION.NOT_FOUND', `No definition ${key}`);
    return found;
  }

  @Post(':key/activate')
  @HttpCode(200)
  @RequireRoles('admin')
  activate(@Param('key') key: string, @CurrentCaller() caller: Caller, @Req() request: Request): Promise<DefinitionCommandResult> {
    return this.commands.execute(new ChangeDefinitionCommand(checkKey(key), { type: 'ActivateDefinition', key }, caller.id, originOf(request)));
  }

  @Post(':key/deactivate')
  @HttpCode(200)
  @RequireRoles('admin')
  deactivate(@Param('key') key: string, @CurrentCaller() caller: Caller, @Req() request: Request): Promise<DefinitionCommandResult> {
    return this.commands.execute(new ChangeDefinitionCommand(checkKey(key), { type: 'DeactivateDefinition', key }, caller.id, originOf(request)));
  }

  @Patch(':key')
  @RequireRoles('admin')
  @ApiOperation({ summary: 'Change the execution order' })
  changeOrder(
    @Param('key') key: string,
    @Body() body: ChangeExecutionOrderDto,
    @CurrentCaller() caller: Caller,
    @Req() request: Request,
  ): Promise<DefinitionCommandResult> {
    return this.commands.execute(
      new ChangeDefinitionCommand(checkKey(key), { type: 'ChangeExecutionOrder', key, executionOrder: body.executionOrder }, caller.id, originOf(request)),
    );
  }
}
