import { Body, Controller, Get, Headers, HttpCode, Param, Patch, Post, Query, Req, Res } from '@nestjs/common';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import { ApiBody, ApiConsumes, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
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
import { absent, jsonObject, ValidBody } from '../http/validation';
import {
  ApiAnswer,
  ApiErrors,
  Authenticated,
  DefinitionKeyParam,
  ApiQueryOf,
  MinPositionQuery,
  minPosition,
  named,
  OPTIONAL_ENTITY_TYPE,
  PATTERNS,
  WithBody,
} from '../http/openapi';
import {
  ACTIVITY_HEATMAP,
  DEFINITION_COMMAND_RESULT,
  DEFINITION_DETAILS,
  DEFINITION_LIST,
  MIGRATION_RESULT,
} from '../http/answers';
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
  ApiQueryOf(
    z.object({
      version: z
        .string()
        .optional()
        .meta({ pattern: VERSION_PATTERN, description: 'the version (absent or empty: the latest)' }),
    }),
  );

const CHANGE_EXECUTION_ORDER = named(
  'ChangeExecutionOrderDto',
  z.strictObject({
    executionOrder: z.number().int().min(-1_000_000).max(1_000_000).meta({ description: 'smaller starts first' }),
  }),
);

/** An activity id, as definitions name them. */
const ACTIVITY_ID = '^[A-Za-z_][A-Za-z0-9_]{0,99}$';
const MAX_MAPPING_ENTRIES = 500;
const version = (description: string) => z.number().int().min(1).max(1_000_000_000).meta({ description });

const MIGRATE_INSTANCES = named(
  'MigrateInstancesDto',
  z.strictObject({
    fromVersion: version('the version whose running and suspended instances move'),
    toVersion: version('the version they move to'),
    // Its entries are checked by checkMapping, to answer MIGRATION.INVALID_MAPPING.
    mapping: jsonObject(
      `activity of fromVersion → activity of toVersion (both ${ACTIVITY_ID}); an activity not named keeps its id`,
    ).meta({ additionalProperties: { type: 'string', pattern: ACTIVITY_ID }, maxProperties: MAX_MAPPING_ENTRIES }),
    activity: absent(z.string().regex(new RegExp(ACTIVITY_ID))).meta({
      description: 'only the instances whose activity entered last is this one',
    }),
    entityType: absent(z.string().regex(new RegExp(PATTERNS.entityType))).meta({
      description: 'only the instances about records of this type',
    }),
    dryRun: z.boolean().meta({ description: 'true: answer which would move and which cannot, and move none' }),
  }),
);

/** The BPMN import options (checked by importOption, to answer QUERY.INVALID). */
const PUBLISH_QUERY = z.object({
  key: z.string().optional().meta({
    pattern: PATTERNS.definitionKey,
    description:
      'BPMN only: the definition key when the file has no lifeline:definition key (else from the process id)',
  }),
  relatedEntity: z.string().optional().meta({
    pattern: PATTERNS.entityType,
    description: 'BPMN only: the record type when the file has no lifeline:definition relatedEntity',
  }),
  processId: z.string().optional().meta({
    pattern: PATTERNS.processId,
    description: 'BPMN only: which executable process of the file to publish, when it has several',
  }),
  unassignedRole: z.string().optional().meta({
    pattern: PATTERNS.role,
    description:
      'BPMN only: the role a user task without an assignee or candidate group goes to (else such a task is refused)',
  }),
});

/** The process grid's filters (checked in the controller, to answer QUERY.INVALID). */
const LIST_QUERY = z.object({
  minPosition,
  relatedEntity: z.string().optional().meta({ pattern: PATTERNS.optionalEntityType }),
  startable: z.enum(['true', 'false']).optional().meta({
    description: 'true: only the enabled definitions the caller may start by hand (admin, or a startableBy role)',
  }),
});

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
    schema: { $ref: '#/components/schemas/ProcessDefinition' }, // DOMAIN_SCHEMAS (http/domain-schemas.ts)
  })
  @ApiQueryOf(PUBLISH_QUERY)
  @ApiAnswer(201, DEFINITION_COMMAND_RESULT, 'Published: the key and its new version')
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
  @ApiQueryOf(LIST_QUERY)
  @ApiAnswer(200, DEFINITION_LIST)
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
  @ApiAnswer(200, DEFINITION_DETAILS)
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
  @ApiAnswer(200, ACTIVITY_HEATMAP)
  @ApiErrors(400, 404, 503)
  heatmap(@Param('key') key: string, @Query('version') version?: string, @Query('minPosition') minPosition?: string) {
    return this.queries.execute(new ActivityHeatmapQuery(key, version, minPosition));
  }

  @Post(':key/activate')
  @HttpCode(200)
  @RequireRoles('admin')
  @ApiOperation({ summary: 'Enable: its triggers start instances again' })
  @DefinitionKeyParam()
  @ApiAnswer(200, DEFINITION_COMMAND_RESULT)
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
  @ApiAnswer(200, DEFINITION_COMMAND_RESULT)
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
  @ApiAnswer(200, DEFINITION_COMMAND_RESULT)
  @ApiErrors(403, 404, 409)
  @WithBody()
  changeOrder(
    @Param('key') key: string,
    @ValidBody(CHANGE_EXECUTION_ORDER) body: z.output<typeof CHANGE_EXECUTION_ORDER>,
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
  @ApiAnswer(
    200,
    MIGRATION_RESULT,
    'Which moved (or, in a dry run, would move), and which cannot with the reasons by activity',
  )
  @ApiErrors(403, 404)
  @WithBody()
  async migrate(
    @Param('key') key: string,
    @ValidBody(MIGRATE_INSTANCES) body: z.output<typeof MIGRATE_INSTANCES>,
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
