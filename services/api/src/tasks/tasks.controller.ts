import { Controller, Get, HttpCode, Param, Post, Query, Req } from '@nestjs/common';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import type { Request } from 'express';
import type { TaskFilter } from '@lifeline/read-models';
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
  named,
  PATTERNS,
  TaskIdParam,
  WithBody,
} from '../http/openapi';
import { absent, jsonObject, ValidBody, ValidQuery } from '../http/validation';
import { PAGE_QUERY } from '../http/page-query';
import { INSTANCE_COMMAND_RESULT, TASK_DETAILS, TASK_LIST } from '../http/answers';
import { instanceOfTask, noSuchTask, TaskListQuery, TaskQuery } from './tasks.queries';

const TASK_STATUS_FILTERS = ['new', 'ongoing', 'postponed', 'open', 'completed', 'all'] as const;
export const LIST_TASKS_QUERY = z.strictObject({
  ...PAGE_QUERY,
  status: z.enum(TASK_STATUS_FILTERS).optional(),
  role: z.string().max(100).optional(),
  assignee: z.string().max(200).optional(),
  definition: z.string().max(63).optional().meta({ description: 'a definition key' }),
  entityType: z.string().max(100).optional(),
  entityId: z.string().max(200).optional(),
  search: z.string().max(200).optional().meta({ description: 'words in the title or the record id' }),
  due: z.enum(['overdue', 'today', 'week']).optional(),
  /** Its form is checked in the controller, to answer the documented AUDIT.INVALID_AS_OF. */
  asOf: z.string().optional().meta({
    pattern: PATTERNS.asOf,
    description:
      'a global position or an ISO-8601 instant: every task as it was then (roles admin or auditor; others get 403)',
  }),
});
export type ListTasksQuery = z.output<typeof LIST_TASKS_QUERY>;

const USER = /^[^\u0000-\u001f]{1,200}$/;
const ROLE = /^[A-Za-z0-9_.:-]{1,100}$/;

const REASSIGN_TASK = named(
  'ReassignTaskDto',
  z
    .strictObject({
      user: z.string().regex(USER).optional().meta({ description: 'a user id; send exactly one of user or role' }),
      role: z.string().regex(ROLE).optional().meta({ description: 'a role; send exactly one of user or role' }),
    })
    .superRefine((body, context) => {
      // Neither: both are missing, as the DTO answered (both: TASK.INVALID_REASSIGN, from the controller).
      if (body.user === undefined && body.role === undefined) {
        for (const path of ['user', 'role']) context.addIssue({ code: 'custom', path: [path], message: 'is required' });
      }
    })
    .meta({ description: 'exactly one of user or role' }),
);

const DATE_TIME = new RegExp(PATTERNS.dateTime);
const POSTPONE_TASK = named(
  'PostponeTaskDto',
  z.strictObject({
    until: z.string().regex(DATE_TIME).meta({ description: 'hidden from the open list until then' }),
    dueAt: absent(z.string().regex(DATE_TIME)).meta({ description: 'a new due date, not before until' }),
  }),
);

const COMPLETE_TASK = named(
  'CompleteTaskDto',
  z.strictObject({
    result: absent(z.string().max(200)).meta({ description: "one of the activity's results" }),
    fields: absent(jsonObject("the form's fields (at most 64 KiB)")),
    answers: absent(z.array(z.string().max(200)).max(100)).meta({ description: "the question's answers" }),
  }),
);

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
  @ApiAnswer(200, TASK_LIST)
  @ApiErrors(400, 403)
  @AsOfUnavailableAnswer()
  list(@ValidQuery(LIST_TASKS_QUERY) query: ListTasksQuery, @CurrentCaller() caller: Caller) {
    return this.queries.execute(new TaskListQuery(filterOf(query), caller, query.minPosition, query.asOf));
  }

  @Get(':id')
  @ApiOperation({ summary: 'A task with its instructions, form, question, results and the related record' })
  @TaskIdParam()
  @MinPositionQuery()
  @ApiAnswer(200, TASK_DETAILS)
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
  @ApiAnswer(200, INSTANCE_COMMAND_RESULT)
  @ApiErrors(400, 403, 404, 409)
  claim(@Param('id') id: string, @CurrentCaller() caller: Caller, @Req() request: Request) {
    return this.run(id, { type: 'ClaimTask', taskId: id }, caller, request);
  }

  @Post(':id/release')
  @HttpCode(200)
  @ApiOperation({ summary: 'Give the task back to its role' })
  @TaskIdParam()
  @ApiAnswer(200, INSTANCE_COMMAND_RESULT)
  @ApiErrors(400, 403, 404, 409)
  release(@Param('id') id: string, @CurrentCaller() caller: Caller, @Req() request: Request) {
    return this.run(id, { type: 'ReleaseTask', taskId: id }, caller, request);
  }

  @Post(':id/reassign')
  @HttpCode(200)
  @ApiOperation({ summary: 'Reassign to a user or a role (the assignee, or an admin)' })
  @TaskIdParam()
  @ApiAnswer(200, INSTANCE_COMMAND_RESULT)
  @ApiErrors(403, 404, 409)
  @WithBody()
  reassign(
    @Param('id') id: string,
    @ValidBody(REASSIGN_TASK) body: z.output<typeof REASSIGN_TASK>,
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
  @ApiAnswer(200, INSTANCE_COMMAND_RESULT)
  @ApiErrors(403, 404, 409)
  @WithBody()
  postpone(
    @Param('id') id: string,
    @ValidBody(POSTPONE_TASK) body: z.output<typeof POSTPONE_TASK>,
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
  @ApiAnswer(200, INSTANCE_COMMAND_RESULT)
  @ApiErrors(403, 404, 409)
  @WithBody()
  complete(
    @Param('id') id: string,
    @ValidBody(COMPLETE_TASK, { required: false }) body: z.output<typeof COMPLETE_TASK>,
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
