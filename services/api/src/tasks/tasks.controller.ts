import { Body, Controller, Get, HttpCode, Param, Post, Query, Req } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  IsArray,
  IsIn,
  IsInt,
  IsISO8601,
  IsObject,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
  ValidateIf,
} from 'class-validator';
import type { Request } from 'express';
import { countTasks, getTask, listTasks, type Sql, type TaskDetails, type TaskStatusFilter } from '@lifeline/read-models';
import { parseAsOf, readModelsAsOf } from '../../../../libs/audit/src';
import { checkRecordData, type InstanceCommand } from '@lifeline/process-domain';
import { EngineRuntime, RunInstanceCommand, type InstanceCommandResult } from '@lifeline/engine';
import { CurrentCaller } from '../auth/auth.guard';
import type { Caller } from '../auth/jwt';
import { Forbidden, NotFound, RequestInvalid } from '../http/api-errors';
import { originOf } from '../http/origin';
import { ReadSide } from '../http/read-side';

/** Task ids are `<instanceId>.<activityId>.<visit>`: the instance is known without a lookup. */
const TASK_ID = /^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\.([A-Za-z_][A-Za-z0-9_]*)\.(\d{1,9})$/;
export const instanceOfTask = (taskId: string): string => {
  const match = TASK_ID.exec(taskId);
  if (!match) throw new NotFound('TASK.NOT_FOUND', 'No such task');
  return match[1];
};

export const mayView = (task: Pick<TaskDetails, 'assignee' | 'role'>, caller: Caller): boolean =>
  caller.admin || task.assignee === caller.id || (task.assignee === null && task.role !== null && caller.roles.includes(task.role));

export class ListTasksQuery {
  @IsOptional() @IsIn(['new', 'ongoing', 'postponed', 'open', 'completed', 'all']) status?: TaskStatusFilter;
  @IsOptional() @IsString() @MaxLength(100) role?: string;
  @IsOptional() @IsString() @MaxLength(200) assignee?: string;
  @IsOptional() @IsString() @MaxLength(63) definition?: string;
  @IsOptional() @IsString() @MaxLength(100) entityType?: string;
  @IsOptional() @IsString() @MaxLength(200) entityId?: string;
  @IsOptional() @IsString() @MaxLength(200) search?: string;
  @IsOptional() @IsIn(['overdue', 'today', 'week']) due?: 'overdue' | 'today' | 'week';
  @IsOptional() @Type(() => Number) @IsInt() @Min(1) @Max(500) limit?: number;
  @IsOptional() @Type(() => Number) @IsInt() @Min(0) offset?: number;
  @IsOptional() @IsString() minPosition?: string;
  /** A global position or an ISO instant: the list as it was then, rebuilt from history (docs/audit.md). */
  @IsOptional() @IsString() @MaxLength(40) asOf?: string;
}

export class ReassignTaskDto {
  @ValidateIf((o: ReassignTaskDto) => o.role === undefined) @IsString() @Matches(/^[^\u0000-\u001f]{1,200}$/) user?: string;
  @ValidateIf((o: ReassignTaskDto) => o.user === undefined) @IsString() @Matches(/^[A-Za-z0-9_.:-]{1,100}$/) role?: string;
}

export class PostponeTaskDto {
  @IsISO8601({ strict: true }) until!: string;
  @IsOptional() @IsISO8601({ strict: true }) dueAt?: string;
}

export class CompleteTaskDto {
  @IsOptional() @IsString() @MaxLength(200) result?: string;
  @IsOptional() @IsObject() fields?: Record<string, unknown>;
  @IsOptional() @IsArray() @ArrayMaxSize(100) @IsString({ each: true }) @MaxLength(200, { each: true }) answers?: string[];
}

@ApiTags('tasks')
@ApiBearerAuth()
@Controller('tasks')
export class TasksController {
  constructor(
    private readonly commands: CommandBus,
    private readonly read: ReadSide,
    private readonly engine: EngineRuntime,
  ) {}

  @Get()
  @ApiOperation({ summary: "The caller's task list: their tasks and the unassigned tasks of their roles" })
  async list(@Query() query: ListTasksQuery, @CurrentCaller() caller: Caller) {
    // asOf: the same queries over read models rebuilt in memory from the log up to that point.
    const past = query.asOf === undefined ? undefined : await readModelsAsOf(this.engine.store, parseAsOf(query.asOf));
    try {
      const { position } = past ?? (await this.read.atLeast(query.minPosition));
      const now = past?.now ?? this.engine.clock.nowIso();
      const db = past?.sql ?? this.read.db;
      return this.listIn(db, query, caller, position, now);
    } finally {
      past?.close();
    }
  }

  private listIn(db: Sql, query: ListTasksQuery, caller: Caller, position: number, now: string) {
    const viewer = { user: caller.id, roles: caller.roles, admin: caller.admin };
    const items = listTasks(
      db,
      viewer,
      {
        status: query.status,
        role: query.role,
        assignee: query.assignee,
        definitionKey: query.definition,
        entityType: query.entityType,
        entityId: query.entityId,
        search: query.search,
        due: query.due,
        limit: query.limit,
        offset: query.offset,
      },
      now,
    );
    return { position, counts: countTasks(db, viewer, now), items };
  }

  @Get(':id')
  async get(@Param('id') id: string, @CurrentCaller() caller: Caller, @Query('minPosition') minPosition?: string) {
    instanceOfTask(id);
    await this.read.atLeast(minPosition);
    const task = getTask(this.read.db, id, this.engine.clock.nowIso());
    if (!task) throw new NotFound('TASK.NOT_FOUND', 'No such task');
    if (!mayView(task, caller)) throw new Forbidden('This task is not assigned to you or your roles');
    const entity = task.entity ? await this.engine.instances.latestEntityData(task.entity.type, task.entity.id) : {};
    return { ...task, record: entity };
  }

  private run(taskId: string, command: InstanceCommand, caller: Caller, request: Request): Promise<InstanceCommandResult> {
    return this.commands.execute(
      new RunInstanceCommand(instanceOfTask(taskId), command, { id: caller.id, roles: caller.roles }, originOf(request)),
    );
  }

  @Post(':id/claim')
  @HttpCode(200)
  claim(@Param('id') id: string, @CurrentCaller() caller: Caller, @Req() request: Request) {
    return this.run(id, { type: 'ClaimTask', taskId: id }, caller, request);
  }

  @Post(':id/release')
  @HttpCode(200)
  release(@Param('id') id: string, @CurrentCaller() caller: Caller, @Req() request: Request) {
    return this.run(id, { type: 'ReleaseTask', taskId: id }, caller, request);
  }

  @Post(':id/reassign')
  @HttpCode(200)
  reassign(@Param('id') id: string, @Body() body: ReassignTaskDto, @CurrentCaller() caller: Caller, @Req() request: Request) {
    if ((body.user === undefined) === (body.role === undefined)) {
      throw new RequestInvalid('TASK.INVALID_REASSIGN', 'Send exactly one of user or role');
    }
    const to = body.user !== undefined ? { user: body.user } : { role: body.role as string };
    return this.run(id, { type: 'ReassignTask', taskId: id, to }, caller, request);
  }

  @Post(':id/postpone')
  @HttpCode(200)
  @ApiOperation({ summary: '"Perform later": hidden from the open list until `until`; optionally a new due date' })
  postpone(@Param('id') id: string, @Body() body: PostponeTaskDto, @CurrentCaller() caller: Caller, @Req() request: Request) {
    return this.run(id, { type: 'PostponeTask', taskId: id, until: body.until, ...(body.dueAt ? { dueAt: body.dueAt } : {}) }, caller, request);
  }

  @Post(':id/complete')
  @HttpCode(200)
  complete(@Param('id') id: string, @Body() body: CompleteTaskDto, @CurrentCaller() caller: Caller, @Req() request: Request) {
    if (body.fields && JSON.stringify(body.fields).length > 64 * 1024) {
      throw new RequestInvalid('TASK.FIELDS_TOO_LARGE', 'fields are limited to 64 KiB');
    }
    const issues = body.fields ? checkRecordData(body.fields, 'fields') : [];
    if (issues.length > 0) throw new RequestInvalid('REQUEST.INVALID', 'fields are not plain, well-formed data', issues);
    return this.run(
      id,
      {
        type: 'CompleteTask',
        taskId: id,
        ...(body.result !== undefined ? { result: body.result } : {}),
        ...(body.fields !== undefined ? { fields: body.fields } : {}),
        ...(body.answers !== undefined ? { answers: body.answers } : {}),
      },
      caller,
      request,
    );
  }
}
