import { Controller, Get, HttpCode, Param, Post } from '@nestjs/common';
import { ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import { z } from 'zod';
import { MAIL_STATUSES, type MailStatus } from '@lifeline/engine';
import { RequireRoles } from '../auth/auth.guard';
import { ApiAnswer, ApiErrors, Authenticated } from '../http/openapi';
import { MAIL_LIST } from '../http/answers';
import { PAGE_QUERY } from '../http/page-query';
import { ValidQuery } from '../http/validation';
import { MailListQuery, ResendMailCommand } from './mails.use-cases';

const LIST_MAILS_QUERY = z.strictObject({
  ...PAGE_QUERY,
  status: z.enum(MAIL_STATUSES as [MailStatus, ...MailStatus[]]).optional(),
  taskId: z.string().max(200).optional().meta({ description: 'the mails about one task' }),
});

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
  @ApiAnswer(200, MAIL_LIST)
  @ApiErrors(400, 403, 404)
  list(@ValidQuery(LIST_MAILS_QUERY) query: z.output<typeof LIST_MAILS_QUERY>) {
    const filter = { status: query.status, taskId: query.taskId, limit: query.limit ?? 50, offset: query.offset ?? 0 };
    return this.queries.execute(new MailListQuery(filter));
  }

  @Post(':id/resend')
  @HttpCode(200)
  @RequireRoles('admin')
  @ApiOperation({ summary: 'Queue a mail that was given up once more (after the address or the server was fixed)' })
  @ApiParam({ name: 'id', description: 'the mail id, as listed' })
  @ApiAnswer(200, MAIL_LIST)
  @ApiErrors(403, 404, 409)
  resend(@Param('id') id: string) {
    return this.commands.execute(new ResendMailCommand(id));
  }
}
