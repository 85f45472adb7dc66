import { Controller, Get, HttpCode, Param, Post, Query, Req } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import type { Request } from 'express';
import { randomUUID } from 'node:crypto';
import { getInstance, INSTANCE_STATUSES, listInstances, viewerHasTaskInInstance } from '@lifeline/read-models';
import { AsOfPool, parseAsOf } from '@lifeline/audit';
import { checkRecordData, streams, type Actor, type InstanceCommand } from '@lifeline/process-domain';
import { EngineRuntime, LaunchInstanceCommand, RunInstanceCommand, type InstanceCommandResult } from '@lifeline/engine';
import { CurrentCaller, RequireRoles } from '../auth/auth.guard';
import { hasOverview, type Caller } from '../auth/jwt';
import { NotFound, RequestInvalid } from '../http/api-errors';
import { originOf } from '../http/origin';
import { ReadSide } from '../http/read-side';
import {
  POSITION,
  ApiAnswer,
  ApiErrors,
  AS_OF,
  AsOfQuery,
  AsOfUnavailableAnswer,
  Authenticated,
  InstanceIdParam,
  MinPositionQuery,
  named,
  PATTERNS,
  WithBody,
} from '../http/openapi';
import { INSTANCE_COMMAND_RESULT, INSTANCE_HISTORY, INSTANCE_LIST, INSTANCE_STATE } from '../http/answers';
import { absent, jsonObject, ValidBody, ValidQuery } from '../http/validation';
import { PAGE_QUERY } from '../http/page-query';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
export const checkInstanceId = (id: string): string => {
  if (!UUID.test(id)) throw new NotFound('INSTANCE.NOT_FOUND', 'No such instance');
  return id;
};
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
  status: z.enum(INSTANCE_STATUSES).optional(),
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
    private readonly read: ReadSide,
    private readonly engine: EngineRuntime,
    private readonly asOf: AsOfPool,
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
  ): Promise<InstanceCommandResult & { instanceId: string }> {
    if (JSON.stringify(body.variables ?? {}).length > 64 * 1024)
      throw new RequestInvalid('INSTANCE.VARIABLES_TOO_LARGE', 'variables are limited to 64 KiB');
    const issues = body.variables ? checkRecordData(body.variables, 'variables') : [];
    if (issues.length > 0)
      throw new RequestInvalid('REQUEST.INVALID', 'variables are not plain, well-formed data', issues);
    const instanceId = randomUUID();
    // Who may start it, and whether it may start now, is the engine's decision (decideManualStart).
    const result: InstanceCommandResult = await this.commands.execute(
      new LaunchInstanceCommand(
        {
          instanceId,
          definitionKey: body.definitionKey,
          entity: { type: body.entity.type, id: body.entity.id },
          variables: body.variables ?? {},
        },
        actorOf(caller),
        originOf(request),
      ),
    );
    return { ...result, instanceId };
  }

  @Get()
  @ApiOperation({ summary: 'Instances, filtered by definition, record, status or open incidents' })
  @ApiAnswer(200, INSTANCE_LIST)
  @ApiErrors(400, 503)
  async list(@ValidQuery(LIST_INSTANCES_QUERY) query: ListInstancesQuery, @CurrentCaller() caller: Caller) {
    const { position } = await this.read.atLeast(query.minPosition, ['instances', 'task-list']);
    const items = listInstances(this.read.db, {
      definitionKey: query.definition,
      entityType: query.entityType,
      entityId: query.entityId,
      status: query.status,
      hasIncident: query.incidents === undefined ? undefined : query.incidents === 'true',
      limit: query.limit,
      offset: query.offset,
      // Need to know: without an overview role, only the instances one has a task in.
      ...(hasOverview(caller) ? {} : { visibleTo: { user: caller.id, roles: caller.roles } }),
    });
    return { position, items };
  }

  @Get(':id')
  @ApiOperation({ summary: "An instance's state; with asOf, as it was then" })
  @InstanceIdParam()
  @MinPositionQuery()
  @AsOfQuery()
  @ApiAnswer(200, INSTANCE_STATE)
  @ApiErrors(400, 404)
  @AsOfUnavailableAnswer()
  async get(
    @Param('id') id: string,
    @CurrentCaller() caller: Caller,
    @Query('minPosition') minPosition?: string,
    @Query('asOf') asOf?: string,
  ) {
    checkInstanceId(id);
    this.requireNeedToKnow(caller, id);
    if (minPosition !== undefined && (typeof minPosition !== 'string' || !POSITION.test(minPosition))) {
      throw new RequestInvalid('QUERY.INVALID_MIN_POSITION', 'minPosition must be a non-negative integer');
    }
    if (asOf !== undefined && (typeof asOf !== 'string' || !AS_OF.test(asOf))) {
      throw new RequestInvalid(
        'AUDIT.INVALID_AS_OF',
        'asOf must be a global position (integer) or an ISO-8601 instant with a zone',
      );
    }
    if (asOf !== undefined) {
      // The instance as it was then, rebuilt from the log up to that point on a worker thread (docs/architecture.md, "Audit").
      const past = await this.asOf.instance(parseAsOf(asOf), id);
      if (!past.instance) throw new NotFound('INSTANCE.NOT_FOUND', 'No such instance at that point');
      return { ...past.instance, asOf: { position: past.position, at: past.at } };
    }
    await this.read.atLeast(minPosition, ['instances']);
    const found = getInstance(this.read.db, id);
    if (!found) throw new NotFound('INSTANCE.NOT_FOUND', 'No such instance');
    return found;
  }

  @Get(':id/history')
  @ApiOperation({ summary: "The instance's events in order: position, type, at, actor, data" })
  @InstanceIdParam()
  @ApiAnswer(200, INSTANCE_HISTORY)
  @ApiErrors(400, 404, 503)
  async history(@Param('id') id: string, @CurrentCaller() caller: Caller) {
    this.requireNeedToKnow(caller, checkInstanceId(id));
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
        ...(e.metadata.traceparent ? { traceparent: e.metadata.traceparent } : {}),
        data: e.data,
      })),
    };
  }

  /**
   * Without an overview role (admin, auditor), an instance is readable only by those with a task in it;
   * to anyone else it answers exactly as an instance that does not exist.
   */
  private requireNeedToKnow(caller: Caller, instanceId: string): void {
    if (hasOverview(caller)) return;
    this.read.served(['task-list']);
    if (!viewerHasTaskInInstance(this.read.db, { user: caller.id, roles: caller.roles }, instanceId)) {
      throw new NotFound('INSTANCE.NOT_FOUND', 'No such instance');
    }
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
