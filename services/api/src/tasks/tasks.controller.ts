import { Body, Controller, Get, HttpCode, Param, Post, Query, Req } from '@nestjs/common';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import { ApiBody, ApiExtraModels, ApiOperation, ApiProperty, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import {
  ArrayMaxSize,
  IsArray,
  IsIn,
  IsObject,
  IsOptional,
  IsString,
  Matches,
  MaxLength,
  ValidateIf,
} from 'class-validator';
import type { Request } from 'express';
import type { TaskFilter, TaskStatusFilter } from '@lifeline/read-models';
import { checkRecordData, InstanceNotFound, type InstanceCommand } from '@lifeline/process-domain';
import { RunInstanceCommand, type InstanceCommandResult } from '@lifeline/engine';
import { CurrentCaller } from '../auth/auth.guard';
import type { Caller } from '../auth/jwt';
import { RequestInvalid } from '../http/api-errors';
import { originOf } from '../http/origin';
import {
  ApiAnswer,
  ApiErrors,
  AsOfUnavailableAnswer,
  Authenticated,
  MinPositionQuery,
  PATTERNS,
  TaskIdParam,
  WithBody,
} from '../http/openapi';
import { Absent } from '../http/validation';
import { PageQuery } from '../http/page-query';
import { instanceOfTask, noSuchTask, TaskListQuery, TaskQuery } from './tasks.queries';

export class ListTasksQuery extends PageQuery {
  @ApiPropertyOptional({ enum: ['new', 'ongoing', 'postponed', 'open', 'completed', 'all'] })
  @IsOptional()
  @IsIn(['new', 'ongoing', 'postponed', 'open', 'completed', 'all'])
  status?: TaskStatusFilter;
  @ApiPropertyOptional({ maxLength: 100 }) @IsOptional() @IsString() @MaxLength(100) role?: string;
  @ApiPropertyOptional({ maxLength: 200 }) @IsOptional() @IsString() @MaxLength(200) assignee?: string;
  @ApiPropertyOptional({ maxLength: 63, description: 'a definition key' })
  @IsOptional()
  @IsString()
  @MaxLength(63)
  definition?: string;
  @ApiPropertyOptional({ maxLength: 100 }) @IsOptional() @IsString() @MaxLength(100) entityType?: string;
  @ApiPropertyOptional({ maxLength: 200 }) @IsOptional() @IsString() @MaxLength(200) entityId?: string;
  @ApiPropertyOptional({ maxLength: 200, description: 'words in the title or the record id' })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  search?: string;
  @ApiPropertyOptional({ enum: ['overdue', 'today', 'week'] }) @IsOptional() @IsIn(['overdue', 'today', 'week']) due?:
    'overdue' | 'today' | 'week';
  /** A global position or an ISO instant: the list as it was then, rebuilt from history (docs/architecture.md, "Audit"). */
  @ApiPropertyOptional({
    pattern: PATTERNS.asOf,
    description:
      'a global position or an ISO-8601 instant: every task as it was then (roles admin or auditor; others get 403)',
  })
  @IsOptional()
  @IsString()
  asOf?: string; // its form is checked in the controller, to answer the documented AUDIT.INVALID_AS_OF
}

const USER = '^[^\\u0000-\\u001f]{1,200}$';
const ROLE = '^[A-Za-z0-9_.:-]{1,100}$';

export class ReassignTaskDto {
  @ApiPropertyOptional({ pattern: USER, description: 'a user id; send exactly one of user or role' })
  @ValidateIf((o: ReassignTaskDto) => o.role === undefined)
  @IsString()
  @Matches(new RegExp(USER))
  user?: string;
  @ApiPropertyOptional({ pattern: ROLE, description: 'a role; send exactly one of user or role' })
  @ValidateIf((o: ReassignTaskDto) => o.user === undefined)
  @IsString()
  @Matches(new RegExp(ROLE))
  role?: string;
}

export class PostponeTaskDto {
  @ApiProperty({ pattern: PATTERNS.dateTime, description: 'hidden from the open list until then' })
  @IsString()
  @Matches(new RegExp(PATTERNS.dateTime))
  until!: string;
  @ApiPropertyOptional({ pattern: PATTERNS.dateTime, description: 'a new due date, not before until' })
  @Absent()
  @IsString()
  @Matches(new RegExp(PATTERNS.dateTime))
  dueAt?: string;
}

export class CompleteTaskDto {
  @ApiPropertyOptional({ maxLength: 200, description: "one of the activity's results" })
  @Absent()
  @IsString()
  @MaxLength(200)
  result?: string;
  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: true,
    description: "the form's fields (at most 64 KiB)",
  })
  @Absent()
  @IsObject()
  fields?: Record<string, unknown>;
  @ApiPropertyOptional({
    type: [String],
    maxItems: 100,
    items: { type: 'string', maxLength: 200 },
    description: "the question's answers",
  })
  @Absent()
  @IsArray()
  @ArrayMaxSize(100)
  @IsString({ each: true })
  @MaxLength(200, { each: true })
  answers?: string[];
}

const filterOf = (query: ListTasksQuery): TaskFilter => ({
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
});

@ApiTags('tasks')
@Authenticated()
@ApiExtraModels(PostponeTaskDto, CompleteTaskDto)
@Controller('tasks')
export class TasksController {
  constructor(
    private readonly commands: CommandBus,
    private readonly queries: QueryBus,
  ) {}

  @Get()
  @ApiOperation({
    summary:
      "The caller's task list: their tasks and the unassigned tasks of their roles; with asOf, every task as it was then",
  })
  @ApiAnswer(200, 'TaskList')
  @ApiErrors(400, 403)
  @AsOfUnavailableAnswer()
  list(@Query() query: ListTasksQuery, @CurrentCaller() caller: Caller) {
    return this.queries.execute(new TaskListQuery(filterOf(query), caller, query.minPosition, query.asOf));
  }

  @Get(':id')
  @ApiOperation({ summary: 'A task with its instructions, form, question, results and the related record' })
  @TaskIdParam()
  @MinPositionQuery()
  @ApiAnswer(200, 'TaskDetails')
  @ApiErrors(400, 404, 503)
  get(@Param('id') id: string, @CurrentCaller() caller: Caller, @Query('minPosition') minPosition?: string) {
    return this.queries.execute(new TaskQuery(id, caller, minPosition));
  }

  private async run(
    taskId: string,
    command: InstanceCommand,
    caller: Caller,
    request: Request,
  ): Promise<InstanceCommandResult> {
    try {
      return await this.commands.execute(
        new RunInstanceCommand(
          instanceOfTask(taskId),
          command,
          { id: caller.id, roles: caller.roles },
          originOf(request),
        ),
      );
    } catch (error) {
      // A task id naming no instance answers like any other unknown task (the decider answers the rest alike).
      if (error instanceof InstanceNotFound) throw noSuchTask();
      throw error;
    }
  }

  @Post(':id/claim')
  @HttpCode(200)
  @ApiOperation({ summary: 'Assign the task to myself' })
  @TaskIdParam()
  @ApiAnswer(200, 'InstanceCommandResult')
  @ApiErrors(400, 403, 404, 409)
  claim(@Param('id') id: string, @CurrentCaller() caller: Caller, @Req() request: Request) {
    return this.run(id, { type: 'ClaimTask', taskId: id }, caller, request);
  }

  @Post(':id/release')
  @HttpCode(200)
  @ApiOperation({ summary: 'Give the task back to its role' })
  @TaskIdParam()
  @ApiAnswer(200, 'InstanceCommandResult')
  @ApiErrors(400, 403, 404, 409)
  release(@Param('id') id: string, @CurrentCaller() caller: Caller, @Req() request: Request) {
    return this.run(id, { type: 'ReleaseTask', taskId: id }, caller, request);
  }

  @Post(':id/reassign')
  @HttpCode(200)
  @ApiOperation({ summary: 'Reassign to a user or a role (the assignee, or an admin)' })
  @TaskIdParam()
  @ApiBody({
    description: 'exactly one of user or role',
    schema: {
      oneOf: [
        {
          type: 'object',
          additionalProperties: false,
          required: ['user'],
          properties: { user: { type: 'string', pattern: USER } },
        },
        {
          type: 'object',
          additionalProperties: false,
          required: ['role'],
          properties: { role: { type: 'string', pattern: ROLE } },
        },
      ],
    },
  })
  @ApiAnswer(200, 'InstanceCommandResult')
  @ApiErrors(403, 404, 409)
  @WithBody()
  reassign(
    @Param('id') id: string,
    @Body() body: ReassignTaskDto,
    @CurrentCaller() caller: Caller,
    @Req() request: Request,
  ) {
    if ((body.user === undefined) === (body.role === undefined)) {
      throw new RequestInvalid('TASK.INVALID_REASSIGN', 'Send exactly one of user or role');
    }
    const to = body.user !== undefined ? { user: body.user } : { role: body.role as string };
    return this.run(id, { type: 'ReassignTask', taskId: id, to }, caller, request);
  }

  @Post(':id/postpone')
  @HttpCode(200)
  @ApiOperation({ summary: '"Perform later": hidden from the open list until `until`; optionally a new due date' })
  @TaskIdParam()
  @ApiBody({ type: PostponeTaskDto })
  @ApiAnswer(200, 'InstanceCommandResult')
  @ApiErrors(403, 404, 409)
  @WithBody()
  postpone(
    @Param('id') id: string,
    @Body() body: PostponeTaskDto,
    @CurrentCaller() caller: Caller,
    @Req() request: Request,
  ) {
    return this.run(
      id,
      { type: 'PostponeTask', taskId: id, until: body.until, ...(body.dueAt ? { dueAt: body.dueAt } : {}) },
      caller,
      request,
    );
  }

  @Post(':id/complete')
  @HttpCode(200)
  @ApiOperation({ summary: 'Complete with a result, fields and answers, checked against the activity' })
  @TaskIdParam()
  @ApiBody({ type: CompleteTaskDto, required: false })
  @ApiAnswer(200, 'InstanceCommandResult')
  @ApiErrors(403, 404, 409)
  @WithBody()
  complete(
    @Param('id') id: string,
    @Body() body: CompleteTaskDto,
    @CurrentCaller() caller: Caller,
    @Req() request: Request,
  ) {
    instanceOfTask(id);
    if (body.fields && JSON.stringify(body.fields).length > 64 * 1024) {
      throw new RequestInvalid('TASK.FIELDS_TOO_LARGE', 'fields are limited to 64 KiB');
    }
    const issues = body.fields ? checkRecordData(body.fields, 'fields') : [];
    if (issues.length > 0)
      throw new RequestInvalid('REQUEST.INVALID', 'fields are not plain, well-formed data', issues);
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
