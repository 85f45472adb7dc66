import { Body, Controller, Get, Headers, HttpCode, Param, Patch, Post, Query, Req, Res } from '@nestjs/common';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import {
  ApiBody,
  ApiConsumes,
  ApiExtraModels,
  ApiOperation,
  ApiProperty,
  ApiPropertyOptional,
  ApiQuery,
  ApiResponse,
  ApiTags,
} from '@nestjs/swagger';
import { IsBoolean, IsInt, IsObject, IsString, Matches, Max, Min } from 'class-validator';
import type { Request, Response } from 'express';
import {
  BPMN_MEDIA_TYPES,
  ChangeDefinitionCommand,
  MigrateInstancesCommand,
  PublishDefinitionCommand,
  type DefinitionCommandResult,
  type MigrationResult,
} from '@lifeline/engine';
import { CurrentCaller, RequireRoles } from '../auth/auth.guard';
import type { Caller } from '../auth/jwt';
import { RequestInvalid } from '../http/api-errors';
import { originOf } from '../http/origin';
import { Absent } from '../http/validation';
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
import {
  ActivityHeatmapQuery,
  checkKey,
  DefinitionBpmnQuery,
  DefinitionListQuery,
  DefinitionQuery,
  InstancesToMigrateQuery,
  VERSION_PATTERN,
} from './definitions.queries';

/** The media type of BPMN 2.0 XML (OMG). */
const BPMN_MEDIA_TYPE = 'application/bpmn+xml';
/** The `version` query parameter of the routes that answer about one version. */
const VersionQuery = () =>
  ApiQuery({
    name: 'version',
    required: false,
    description: 'the version (absent or empty: the latest)',
    schema: { type: 'string', pattern: VERSION_PATTERN },
  });

export class ChangeExecutionOrderDto {
  @ApiProperty({ type: 'integer', minimum: -1_000_000, maximum: 1_000_000, description: 'smaller starts first' })
  @IsInt()
  @Min(-1_000_000)
  @Max(1_000_000)
  executionOrder!: number;
}

/** An activity id, as definitions name them. */
const ACTIVITY_ID = '^[A-Za-z_][A-Za-z0-9_]{0,99}$';
const MAX_MAPPING_ENTRIES = 500;

export class MigrateInstancesDto {
  @ApiProperty({
    type: 'integer',
    minimum: 1,
    maximum: 1_000_000_000,
    description: 'the version whose running and suspended instances move',
  })
  @IsInt()
  @Min(1)
  @Max(1_000_000_000)
  fromVersion!: number;
  @ApiProperty({ type: 'integer', minimum: 1, maximum: 1_000_000_000, description: 'the version they move to' })
  @IsInt()
  @Min(1)
  @Max(1_000_000_000)
  toVersion!: number;
  @ApiProperty({
    type: 'object',
    additionalProperties: { type: 'string', pattern: ACTIVITY_ID },
    maxProperties: MAX_MAPPING_ENTRIES,
    description: `activity of fromVersion → activity of toVersion (both ${ACTIVITY_ID}); an activity not named keeps its id`,
  })
  @IsObject()
  mapping!: Record<string, string>;
  @ApiPropertyOptional({
    pattern: ACTIVITY_ID,
    description: 'only the instances whose activity entered last is this one',
  })
  @Absent()
  @IsString()
  @Matches(new RegExp(ACTIVITY_ID))
  activity?: string;
  @ApiPropertyOptional({ pattern: PATTERNS.entityType, description: 'only the instances about records of this type' })
  @Absent()
  @IsString()
  @Matches(new RegExp(PATTERNS.entityType))
  entityType?: string;
  @ApiProperty({ type: 'boolean', description: 'true: answer which would move and which cannot, and move none' })
  @IsBoolean()
  dryRun!: boolean;
}

/** A BPMN import option from the query: absent, or one value matching its pattern. */
function importOption(name: string, value: unknown, pattern: string): Record<string, string> {
  if (value === undefined) return {};
  if (typeof value !== 'string' || !new RegExp(pattern).test(value)) {
    throw new RequestInvalid('QUERY.INVALID', `${name} must match ${pattern}`);
  }
  return { [name]: value };
}

/** The mapping's entries are activity ids on both sides, and not too many. */
function checkMapping(mapping: Record<string, unknown>): Record<string, string> {
  const entries = Object.entries(mapping);
  if (entries.length > MAX_MAPPING_ENTRIES) {
    throw new RequestInvalid('MIGRATION.INVALID_MAPPING', `mapping has more than ${MAX_MAPPING_ENTRIES} entries`);
  }
  const id = new RegExp(ACTIVITY_ID);
  const problems = entries
    .filter(([from, to]) => !id.test(from) || typeof to !== 'string' || !id.test(to))
    .map(([from]) => ({ path: `mapping.${from.slice(0, 100)}`, message: 'must map an activity id to an activity id' }));
  if (problems.length > 0) {
    throw new RequestInvalid('MIGRATION.INVALID_MAPPING', 'mapping must map activity ids to activity ids', problems);
  }
  return Object.fromEntries(entries) as Record<string, string>;
}

@ApiTags('definitions')
@Authenticated()
@ApiExtraModels(ChangeExecutionOrderDto, MigrateInstancesDto)
@Controller('definitions')
export class DefinitionsController {
  constructor(
    private readonly commands: CommandBus,
    private readonly queries: QueryBus,
  ) {}

  @Post()
  @HttpCode(201)
  @RequireRoles('admin')
  @ApiOperation({
    summary:
      'Publish a definition (YAML, JSON, or BPMN 2.0 XML as Camunda Modeler draws it); an invalid one is refused with every error by path (and, for BPMN, by element)',
  })
  @ApiConsumes(
    'application/json',
    'application/yaml',
    'application/x-yaml',
    'text/yaml',
    'text/plain',
    ...BPMN_MEDIA_TYPES,
  )
  @ApiBody({
    description:
      'The definition (README, "Defining a process"): a JSON object, its YAML text, or a BPMN file (docs/decisions/0010-bpmn.md)',
    schema: { $ref: '#/components/schemas/ProcessDefinition' },
  })
  @ApiQuery({
    name: 'key',
    required: false,
    description:
      'BPMN only: the definition key when the file has no lifeline:definition key (else from the process id)',
    schema: { type: 'string', pattern: PATTERNS.definitionKey },
  })
  @ApiQuery({
    name: 'relatedEntity',
    required: false,
    description: 'BPMN only: the record type when the file has no lifeline:definition relatedEntity',
    schema: { type: 'string', pattern: PATTERNS.entityType },
  })
  @ApiQuery({
    name: 'processId',
    required: false,
    description: 'BPMN only: which executable process of the file to publish, when it has several',
    schema: { type: 'string', pattern: PATTERNS.processId },
  })
  @ApiQuery({
    name: 'unassignedRole',
    required: false,
    description:
      'BPMN only: the role a user task without an assignee or candidate group goes to (else such a task is refused)',
    schema: { type: 'string', pattern: PATTERNS.role },
  })
  @ApiAnswer(201, 'DefinitionCommandResult', 'Published: the key and its new version')
  @ApiErrors(403, 409)
  @WithBody()
  async publish(
    @Body() body: unknown,
    @Headers('content-type') contentType: string | undefined,
    @CurrentCaller() caller: Caller,
    @Req() request: Request,
    @Query('key') key?: unknown,
    @Query('relatedEntity') relatedEntity?: unknown,
    @Query('processId') processId?: unknown,
    @Query('unassignedRole') unassignedRole?: unknown,
  ): Promise<DefinitionCommandResult> {
    let text: string;
    if (typeof body === 'string') text = body;
    else if (body && typeof body === 'object' && Object.keys(body).length > 0) text = JSON.stringify(body);
    else throw new RequestInvalid('DEFINITION.EMPTY', 'Send the definition as YAML, JSON or BPMN XML in the body');
    const options = {
      ...importOption('key', key, PATTERNS.definitionKey),
      ...importOption('relatedEntity', relatedEntity, PATTERNS.entityType),
      ...importOption('processId', processId, PATTERNS.processId),
      ...importOption('unassignedRole', unassignedRole, PATTERNS.role),
    };
    return this.commands.execute(
      new PublishDefinitionCommand(text, contentType, caller.id, originOf(request), options),
    );
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
    const filter = {
      ...(relatedEntity ? { relatedEntity } : {}),
      ...(startable === 'true' ? { startableBy: { id: caller.id, roles: caller.roles } } : {}),
    };
    return this.queries.execute(new DefinitionListQuery(filter, minPosition));
  }

  @Get(':key')
  @ApiOperation({ summary: 'A definition with its triggers and versions' })
  @DefinitionKeyParam()
  @MinPositionQuery()
  @ApiAnswer(200, 'DefinitionDetails')
  @ApiErrors(400, 404, 503)
  get(@Param('key') key: string, @Query('minPosition') minPosition?: string) {
    return this.queries.execute(new DefinitionQuery(key, minPosition));
  }

  @Get(':key/bpmn')
  @ApiOperation({
    summary:
      'A version as BPMN 2.0 XML with its diagram (docs/decisions/0010-bpmn.md): the XML it was published as, else an export with an automatic layout',
  })
  @DefinitionKeyParam()
  @VersionQuery()
  @MinPositionQuery()
  @ApiResponse({
    status: 200,
    description: 'BPMN 2.0 XML (Camunda 8 and Lifeline extension elements, diagram interchange)',
    content: { [BPMN_MEDIA_TYPE]: { schema: { type: 'string' } } },
  })
  @ApiErrors(400, 404, 503)
  async bpmn(
    @Param('key') key: string,
    @Query('version') version: string | undefined,
    @Query('minPosition') minPosition: string | undefined,
    @Res({ passthrough: true }) response: Response,
  ): Promise<string> {
    const xml = await this.queries.execute(new DefinitionBpmnQuery(key, version, minPosition));
    // Set here, not by a decorator: an error answer of this route is JSON like every other.
    response.setHeader('content-type', `${BPMN_MEDIA_TYPE}; charset=utf-8`);
    return xml;
  }

  @Get(':key/heatmap')
  @ApiOperation({
    summary:
      'Per activity of one version: the instances there now (each parallel line counts), open incidents there, how many entered it, and how long they stayed (count, mean and max of the stays that ended)',
  })
  @DefinitionKeyParam()
  @VersionQuery()
  @MinPositionQuery()
  @ApiAnswer(200, 'ActivityHeatmap')
  @ApiErrors(400, 404, 503)
  heatmap(@Param('key') key: string, @Query('version') version?: string, @Query('minPosition') minPosition?: string) {
    return this.queries.execute(new ActivityHeatmapQuery(key, version, minPosition));
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

  @Post(':key/migrate')
  @HttpCode(200)
  @RequireRoles('admin')
  @ApiOperation({
    summary:
      'Migrate the running and suspended instances of one version to another (README, "Migrating running instances"); a dry run moves none',
  })
  @DefinitionKeyParam()
  @ApiBody({ type: MigrateInstancesDto })
  @ApiAnswer(
    200,
    'MigrationResult',
    'Which moved (or, in a dry run, would move), and which cannot with the reasons by activity',
  )
  @ApiErrors(403, 404)
  @WithBody()
  async migrate(
    @Param('key') key: string,
    @Body() body: MigrateInstancesDto,
    @CurrentCaller() caller: Caller,
    @Req() request: Request,
  ): Promise<MigrationResult> {
    checkKey(key);
    const mapping = checkMapping(body.mapping);
    if (body.fromVersion === body.toVersion) {
      throw new RequestInvalid('MIGRATION.SAME_VERSION', 'fromVersion and toVersion must differ');
    }
    const instanceIds = await this.queries.execute(
      new InstancesToMigrateQuery({
        definitionKey: key,
        definitionVersion: body.fromVersion,
        ...(body.activity !== undefined ? { activity: body.activity } : {}),
        ...(body.entityType !== undefined ? { entityType: body.entityType } : {}),
      }),
    );
    return this.commands.execute(
      new MigrateInstancesCommand(
        {
          definitionKey: key,
          fromVersion: body.fromVersion,
          toVersion: body.toVersion,
          mapping,
          instanceIds,
          dryRun: body.dryRun,
        },
        { id: caller.id, roles: caller.roles },
        originOf(request),
      ),
    );
  }
}
