import { join } from 'node:path';
import { createTransport, type Transporter } from 'nodemailer';
import type { Logger } from 'pino';
import { decodeEvent } from '@lifeline/process-domain';
import type { EventStore, StoredEvent, Subscription } from '@lifeline/event-store';
import type { Clock } from '../shared/clock';
import { addressOf, escalationContacts, type MailConfig } from './mail-config';
import { MailOutbox, type NewMail } from './mail-outbox';
import { render, type MailKind, type TemplateValues } from './templates';

/** What the task list knows about a task: what a reassignment's own event does not repeat, and its record. */
export interface TaskFacts {
  title: string;
  dueAt: string | null;
  entity: { type: string; id: string } | null;
  /** The user who holds it now (none: a role's task nobody has claimed). */
  assignee?: string | null;
}

/** An open task whose due time passed. */
export interface DueTask {
  id: string;
  title: string;
  assignee: string | null;
  role: string | null;
  dueAt: string;
  instanceId: string;
  entity: { type: string; id: string } | null;
}

/** Read side the notifier asks (the task list read model, where the process serves one). */
export interface TaskLookup {
  task(taskId: string): TaskFacts | undefined;
  /**
   * Open tasks (with an assignee only, if `assignedOnly`) due after the cursor (by due time, then id)
   * and at or before `upTo`, at most `limit`.
   */
  fallingDue(after: { dueAt: string; id: string }, upTo: string, limit: number, assignedOnly: boolean): DueTask[];
}

const INSTANCE_PREFIX = 'instance-';
const SEND_BATCH = 20;
const OVERDUE_BATCH = 500;
const MAX_RETRY_MS = 3_600_000;

/** An SMTP answer that will not change on a retry (5xx), or a message the server refused outright. */
function permanent(error: unknown): boolean {
  const e = error as { responseCode?: number; code?: string };
  return (typeof e.responseCode === 'number' && e.responseCode >= 500) || e.code === 'EENVELOPE';
}

const describe = (error: unknown): string => {
  const e = error as { responseCode?: number; message?: string };
  return `${e.responseCode ? `${e.responseCode} ` : ''}${e.message ?? String(error)}`;
};

/**
 * E-mail about tasks: a user hears when a task is assigned to them (at creation or by a
 * reassignment) and when their task falls overdue. Causes are read from the log (from a checkpoint,
 * so a restart neither loses nor repeats one) and from the task list (tasks whose due time passed
 * since the last look); mails are queued in their own file and sent with retries and backoff.
 * Sending is at least once: a crash between the SMTP answer and the mark sends that mail again,
 * with the same Message-ID.
 */
export class MailNotifier {
  readonly outbox: MailOutbox;
  private readonly transport: Transporter;
  private subscription: Subscription | undefined;
  private timers: NodeJS.Timeout[] = [];
  private sending: Promise<void> | undefined;
  private again = false;
  private running = false;

  constructor(
    private readonly config: MailConfig,
    private readonly store: EventStore,
    dataDir: string,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly lookup?: TaskLookup,
    transport?: Transporter,
  ) {
    this.outbox = MailOutbox.open(join(dataDir, 'mail.db'));
    this.transport = transport ?? createTransport(config.smtpUrl, { from: config.from });
  }

  async start(): Promise<void> {
    this.running = true;
    // Switched on for a log that already has tasks: mail what happens from now on, not the history.
    let from = this.outbox.meta('log');
    if (from === undefined) {
      from = await this.store.headPosition();
      this.outbox.enqueue([], this.clock.nowIso(), { name: 'log', value: from });
    }
    for (const look of ['overdue', 'escalation'] as const) {
      if (this.outbox.meta(look) === undefined) {
        this.outbox.enqueue([], this.clock.nowIso(), { name: look, value: this.clock.now().getTime() });
      }
    }
    this.subscribe(from);
    this.timers.push(setInterval(() => void this.sendDue(), this.config.pollMs));
    if (this.lookup) {
      this.timers.push(
        setInterval(() => {
          try {
            this.checkOverdue();
            this.checkEscalations();
          } catch (err) {
            this.logger.error({ err }, 'mail notifier: looking for overdue tasks failed');
          }
        }, this.config.overdueCheckMs),
      );
    }
    for (const timer of this.timers) timer.unref();
    this.logger.info({ fromPosition: from, backlog: this.outbox.backlog() }, 'mail notifier started');
  }

  /** Follows the log from `from`; after a failure (the queue file could not be written) again from the checkpoint. */
  private subscribe(from: number): void {
    this.subscription = this.store.subscribe((events) => this.fromLog(events), {
      fromPosition: from,
      prefixes: [INSTANCE_PREFIX],
      batchSize: 200,
      onError: (err) => {
        if (!this.running) return;
        this.logger.error({ err }, 'mail notifier: reading the log failed; resuming from its checkpoint in 1 s');
        const retry = setTimeout(() => {
          this.timers = this.timers.filter((t) => t !== retry);
          if (this.running) this.subscribe(this.outbox.meta('log') ?? from);
        }, 1000);
        retry.unref();
        this.timers.push(retry);
      },
    });
  }

  async stop(): Promise<void> {
    this.running = false;
    // clearInterval clears timeouts too (one id space in Node).
    for (const timer of this.timers) clearInterval(timer);
    this.timers = [];
    await this.subscription?.stop();
    await this.sending;
    this.transport.close();
    this.outbox.close();
  }

  /** Resolves once every instance event up to `position` is turned into mails. */
  caughtUpTo(position: number, timeoutMs?: number): Promise<boolean> {
    return this.subscription ? this.subscription.caughtUpTo(position, timeoutMs) : Promise.resolve(false);
  }

  /** The mails one batch of instance events causes, queued with the batch's last position. */
  async fromLog(events: StoredEvent[]): Promise<void> {
    const mails = events.flatMap((event) => this.mailsOf(event));
    this.outbox.enqueue(mails, this.clock.nowIso(), { name: 'log', value: events[events.length - 1]!.position });
    if (mails.length > 0) void this.sendDue();
  }

  /** Tasks whose due time passed since the last look: one notice each to its assignee. */
  checkOverdue(): number {
    return this.look('overdue', 0, true, (task) => [
      this.mail('task-overdue', `overdue:${task.id}:${task.dueAt}`, task.id, task.assignee!, null, this.values(task)),
    ]);
  }

  /**
   * Tasks still open `escalateAfter` past their due time since the last look: the assignee hears that
   * it was escalated, and so do the escalation contacts of its role (assigned or not).
   */
  checkEscalations(): number {
    const after = this.config.escalateAfterMs;
    if (after === undefined) return 0;
    return this.look('escalation', after, false, (task) => {
      const values = this.values(task);
      const holder = task.assignee ?? (task.role ? `role ${task.role}` : 'nobody');
      const mails = task.assignee
        ? [
            this.mail(
              'task-escalated',
              `escalated:${task.id}:${task.dueAt}:${task.assignee}`,
              task.id,
              task.assignee,
              null,
              { ...values, by: holder },
            ),
          ]
        : [];
      for (const address of escalationContacts(this.config, task.role)) {
        mails.push(
          this.mail(
            'task-escalated',
            `escalated:${task.id}:${task.dueAt}:${address}`,
            task.id,
            `contact:${task.role ?? '*'}`,
            null,
            { ...values, by: holder },
            address,
          ),
        );
      }
      return mails;
    });
  }

  /**
   * One look at the task list: tasks whose due time plus `lateBy` passed since this look's watermark,
   * in pages; the watermark moves only once every task up to now is queued (a crash looks again; ids dedupe).
   */
  private look(
    name: 'overdue' | 'escalation',
    lateBy: number,
    assignedOnly: boolean,
    mailsOf: (task: DueTask) => NewMail[],
  ): number {
    if (!this.lookup) return 0;
    const now = this.clock.now().getTime();
    const since = this.outbox.meta(name) ?? now;
    const upTo = new Date(now - lateBy).toISOString();
    let cursor = { dueAt: new Date(since - lateBy).toISOString(), id: '\uffff' };
    let queued = 0;
    for (;;) {
      const tasks = this.lookup.fallingDue(cursor, upTo, OVERDUE_BATCH, assignedOnly);
      const done = tasks.length < OVERDUE_BATCH;
      queued += this.outbox.enqueue(tasks.flatMap(mailsOf), this.clock.nowIso(), { name, value: done ? now : since });
      if (done) break;
      const last = tasks[tasks.length - 1]!;
      cursor = { dueAt: last.dueAt, id: last.id };
    }
    if (queued > 0) void this.sendDue();
    return queued;
  }

  private values(task: DueTask): Omit<TemplateValues, 'user' | 'link'> {
    return {
      title: task.title,
      dueAt: task.dueAt,
      instanceId: task.instanceId,
      record: task.entity ? `${task.entity.type} ${task.entity.id}` : '',
      instructions: '',
      by: '',
    };
  }

  /** Sends what is due; a call while sending makes the running one go round once more. */
  sendDue(): Promise<void> {
    if (!this.running) return Promise.resolve();
    if (this.sending) {
      this.again = true;
      return this.sending;
    }
    // `.finally` runs after the assignment even when nothing is due, so `sending` never stays set.
    this.sending = this.drain().finally(() => {
      this.sending = undefined;
    });
    return this.sending;
  }

  private async drain(): Promise<void> {
    try {
      do {
        this.again = false;
        for (;;) {
          const due = this.outbox.due(this.clock.nowIso(), SEND_BATCH);
          for (const mail of due) {
            if (!this.running) return;
            await this.sendOne(mail);
          }
          if (due.length < SEND_BATCH) break;
        }
      } while (this.again && this.running);
    } catch (err) {
      this.logger.error({ err }, 'mail notifier: sending failed');
    }
  }

  private async sendOne(mail: ReturnType<MailOutbox['due']>[number]): Promise<void> {
    try {
      await this.transport.sendMail({
        from: this.config.from,
        to: mail.address!,
        subject: mail.subject,
        text: mail.text,
        html: mail.html,
        // The same id on every attempt: a mail sent again after a crash is recognisably the same one.
        messageId: `<${encodeURIComponent(mail.id)}@lifeline>`,
        headers: { 'X-Lifeline-Mail-Id': mail.id },
      });
      this.outbox.markSent(mail.id, this.clock.nowIso());
      this.logger.info({ mailId: mail.id, attempt: mail.attempts + 1 }, 'mail sent');
    } catch (error) {
      const attempts = mail.attempts + 1;
      if (permanent(error) || attempts >= this.config.maxAttempts) {
        this.outbox.markFailed(mail.id, describe(error));
        this.logger.warn({ mailId: mail.id, attempts, error: describe(error) }, 'mail given up');
        return;
      }
      const wait = Math.min(this.config.retryMs * 2 ** (attempts - 1), MAX_RETRY_MS);
      const next = new Date(this.clock.now().getTime() + wait).toISOString();
      this.outbox.markRetry(mail.id, next, describe(error));
      this.logger.warn(
        { mailId: mail.id, attempts, retryAt: next, error: describe(error) },
        'mail not sent; will retry',
      );
    }
  }

  private mailsOf(stored: StoredEvent): NewMail[] {
    if (stored.type === 'BoundaryTriggered') return this.reminderOf(stored);
    if (stored.type !== 'TaskCreated' && stored.type !== 'TaskReassigned') return [];
    // Through the codec, as every reader of stored events: checked and upcast, never cast.
    const event = decodeEvent(stored);
    if (event.type !== 'TaskCreated' && event.type !== 'TaskReassigned') return [];
    const assignedTo = event.type === 'TaskCreated' ? event.data.assignee.user : event.data.to.user;
    if (!assignedTo) return [];
    const taskId = event.data.taskId;
    const facts = this.lookup?.task(taskId);
    // A reassignment does not repeat the task's title and due time: the task list has them.
    const created = event.type === 'TaskCreated' ? event.data : undefined;
    const by = stored.metadata.actor;
    return [
      this.mail('task-assigned', `assigned:${stored.id}`, taskId, assignedTo, stored.position, {
        title: created?.title ?? facts?.title ?? 'a task',
        instructions: created?.instructions ?? '',
        dueAt: (created ? created.dueAt : facts?.dueAt) ?? 'no due date',
        instanceId: stored.streamId.slice(INSTANCE_PREFIX.length),
        record: facts?.entity ? `${facts.entity.type} ${facts.entity.id}` : '',
        by: by === 'system' ? 'Lifeline' : by,
      }),
    ];
  }

  /** A boundary event's reminder (`remind: true`): a mail to whoever holds the task now, once per reminder. */
  private reminderOf(stored: StoredEvent): NewMail[] {
    const event = decodeEvent(stored);
    if (event.type !== 'BoundaryTriggered' || event.data.remind !== true) return [];
    const instanceId = stored.streamId.slice(INSTANCE_PREFIX.length);
    const taskId = `${instanceId}.${event.data.activityId}.${event.data.visit}`;
    const facts = this.lookup?.task(taskId);
    if (!facts?.assignee) return [];
    return [
      this.mail('task-reminder', `reminder:${stored.id}`, taskId, facts.assignee, stored.position, {
        title: facts.title,
        instructions: '',
        dueAt: facts.dueAt ?? 'no due date',
        instanceId,
        record: facts.entity ? `${facts.entity.type} ${facts.entity.id}` : '',
        by: 'Lifeline',
      }),
    ];
  }

  private mail(
    kind: MailKind,
    id: string,
    taskId: string,
    user: string,
    position: number | null,
    values: Omit<TemplateValues, 'user' | 'link'>,
    address = addressOf(this.config, user),
  ): NewMail {
    const link = `${this.config.publicUrl}/#/tasks/${encodeURIComponent(taskId)}`;
    const { subject, text, html } = render(this.config.templates[kind], { ...values, user, link });
    return { id, kind, taskId, user, address: address ?? null, subject, text, html, position };
  }
}
