import { Controller, Get, HttpCode, Param, Post } from '@nestjs/common';
import { ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { EngineRuntime, MAIL_STATUSES, type MailNotifier, type MailStatus } from '@lifeline/engine';
import { RequireRoles } from '../auth/auth.guard';
import { Conflict, NotFound } from '../http/api-errors';
import { ApiAnswer, ApiErrors, Authenticated } from '../http/openapi';
import { MAIL_LIST } from '../http/answers';
import { PAGE_QUERY } from '../http/page-query';
import { ValidQuery } from '../http/validation';

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
  constructor(private readonly engine: EngineRuntime) {}

  private notifier(): MailNotifier {
    if (!this.engine.mail) {
      throw new NotFound('MAIL.NOT_CONFIGURED', 'This process sends no mail (LIFELINE_SMTP_URL is not set)');
    }
    return this.engine.mail;
  }

  @Get()
  @RequireRoles('admin')
  @ApiOperation({ summary: 'Task mails, newest first, with their status, attempts and last error' })
  @ApiAnswer(200, MAIL_LIST)
  @ApiErrors(400, 403, 404)
  list(@ValidQuery(LIST_MAILS_QUERY) query: z.output<typeof LIST_MAILS_QUERY>) {
    const items = this.notifier().outbox.list({
      status: query.status,
      taskId: query.taskId,
      limit: query.limit ?? 50,
      offset: query.offset ?? 0,
    });
    return { items };
  }

  @Post(':id/resend')
  @HttpCode(200)
  @RequireRoles('admin')
  @ApiOperation({ summary: 'Queue a mail that was given up once more (after the address or the server was fixed)' })
  @ApiParam({ name: 'id', description: 'the mail id, as listed' })
  @ApiAnswer(200, MAIL_LIST)
  @ApiErrors(403, 404, 409)
  async resend(@Param('id') id: string) {
    const notifier = this.notifier();
    const [mail] = id.length <= 300 ? notifier.outbox.list({ id, limit: 1, offset: 0 }) : [];
    if (!mail) throw new NotFound('MAIL.NOT_FOUND', 'No such mail');
    if (!notifier.outbox.resend(id, this.engine.clock.nowIso())) {
      throw new Conflict('MAIL.NOT_FAILED', `Only a mail that was given up is sent again; this one is ${mail.status}`);
    }
    void notifier.sendDue();
    return { items: notifier.outbox.list({ id, limit: 1, offset: 0 }) };
  }
}
