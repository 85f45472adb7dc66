import { Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiOperation, ApiParam, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { IsIn, IsOptional, IsString, MaxLength } from 'class-validator';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import { MAIL_STATUSES, type MailStatus } from '@lifeline/engine';
import { RequireRoles } from '../auth/auth.guard';
import { ApiAnswer, ApiErrors, Authenticated } from '../http/openapi';
import { PageQuery } from '../http/page-query';
import { MailListQuery, ResendMailCommand } from './mails.use-cases';

export class ListMailsQuery extends PageQuery {
  @ApiPropertyOptional({ enum: MAIL_STATUSES })
  @IsOptional()
  @IsIn(MAIL_STATUSES)
  status?: MailStatus;
  @ApiPropertyOptional({ maxLength: 200, description: 'the mails about one task' })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  taskId?: string;
}

/** Task mails (LIFELINE_SMTP_URL): what was queued, sent, retried or given up, and sending a failed one again. */
@ApiTags('mails')
@Authenticated()
@Controller('admin/mails')
export class MailsController {
  constructor(
    private readonly commands: CommandBus,
    private readonly queries: QueryBus,
  ) {}

  @Get()
  @RequireRoles('admin')
  @ApiOperation({ summary: 'Task mails, newest first, with their status, attempts and last error' })
  @ApiAnswer(200, 'MailList')
  @ApiErrors(400, 403, 404)
  list(@Query() query: ListMailsQuery) {
    const filter = { status: query.status, taskId: query.taskId, limit: query.limit ?? 50, offset: query.offset ?? 0 };
    return this.queries.execute(new MailListQuery(filter));
  }

  @Post(':id/resend')
  @HttpCode(200)
  @RequireRoles('admin')
  @ApiOperation({ summary: 'Queue a mail that was given up once more (after the address or the server was fixed)' })
  @ApiParam({ name: 'id', description: 'the mail id, as listed' })
  @ApiAnswer(200, 'MailList')
  @ApiErrors(403, 404, 409)
  resend(@Param('id') id: string) {
    return this.commands.execute(new ResendMailCommand(id));
  }
}
