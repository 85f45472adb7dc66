import { Injectable } from '@nestjs/common';
import { Command, CommandHandler, Query, QueryHandler, type ICommandHandler, type IQueryHandler } from '@nestjs/cqrs';
import type { z } from 'zod';
import { EngineRuntime, type MailNotifier, type MailRow, type MailStatus } from '@lifeline/engine';
import { Conflict, NotFound } from '../http/api-errors';
import type { MAIL_LIST } from '../http/answers';

/** Task mails, newest first, with their status, attempts and last error. */
export class MailListQuery extends Query<z.output<typeof MAIL_LIST>> {
  constructor(readonly filter: { status?: MailStatus; taskId?: string; limit: number; offset: number }) {
    super();
  }
}

/** A mail that was given up, queued once more (after the address or the server was fixed). */
export class ResendMailCommand extends Command<{ items: MailRow[] }> {
  constructor(readonly mailId: string) {
    super();
  }
}

/** The process's mail notifier, or 404 MAIL.NOT_CONFIGURED. */
function notifier(engine: EngineRuntime): MailNotifier {
  if (!engine.mail) {
    throw new NotFound('MAIL.NOT_CONFIGURED', 'This process sends no mail (LIFELINE_SMTP_URL is not set)');
  }
  return engine.mail;
}

@Injectable()
@QueryHandler(MailListQuery)
export class MailListHandler implements IQueryHandler<MailListQuery> {
  constructor(private readonly engine: EngineRuntime) {}
  async execute({ filter }: MailListQuery) {
    return { items: notifier(this.engine).outbox.list(filter) };
  }
}

@Injectable()
@CommandHandler(ResendMailCommand)
export class ResendMailHandler implements ICommandHandler<ResendMailCommand> {
  constructor(private readonly engine: EngineRuntime) {}
  async execute({ mailId: id }: ResendMailCommand) {
    const mails = notifier(this.engine);
    const [mail] = id.length <= 300 ? mails.outbox.list({ id, limit: 1, offset: 0 }) : [];
    if (!mail) throw new NotFound('MAIL.NOT_FOUND', 'No such mail');
    if (!mails.outbox.resend(id, this.engine.clock.nowIso())) {
      throw new Conflict('MAIL.NOT_FAILED', `Only a mail that was given up is sent again; this one is ${mail.status}`);
    }
    void mails.sendDue();
    return { items: mails.outbox.list({ id, limit: 1, offset: 0 }) };
  }
}
