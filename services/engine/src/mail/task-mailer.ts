import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { createTransport, type Transporter } from 'nodemailer';
import type { EventStore, StoredEvent } from '@lifeline/event-store';
import { decodeInstanceEvent } from '@lifeline/process-domain';
import type { Logger } from 'pino';
import type { Clock } from '../shared/clock';
import type { MailConfig } from '../shared/config';
import { Waker } from '../shared/waker';
import { renderTaskMail, type MailKind } from './mail-templates';

export type MailStatus = 'pending' | 'sent' | 'dead';

export interface TaskMail {
  id: string;
  kind: MailKind;
  taskId: string;
  to: string;
  subject: string;
  status: MailStatus;
  attempts: number;
  lastError: string | null;
}

interface TaskRow {
  task_id: string;
  instance_id: string;
  title: string;
  user: string | null;
  role: string | null;
  due_at: string | null;
}

interface MailRow {
  id: string;
  kind: MailKind;
  task_id: string;
  to_address: string;
  subject: string;
  text: string;
  html: string;
  status: MailStatus;
  attempts: number;
  last_error: string | null;
}

const INSTANCE_PREFIX = 'instance-';
const BATCH = 500;
const SENDS_AT_ONCE = 8;
const MAX_ATTEMPTS = 10;
const RETRY_MS = 5_000;
const RETRY_MAX_MS = 3_600_000;
/** User ids that make a safe local part of an address; others get no mail (and a warning). */
const MAILABLE_USER = /^[A-Za-z0-9._+-]{1,64}$/;

/**
 * E-mail about tasks: to the user a task is assigned to (on creation or reassignment), to that user when
 * it is overdue, and to the escalation address when it is still open `escalateAfter` past its due time.
 * Like the webhook outbox, a relay reads the committed log (only when mail is configured) into its own
 * file: the open tasks it needs and the mails to send, beside its checkpoint, so none is lost or sent
 * twice by a restart. Due times are checked on the engine's clock; sending retries wait on wall time.
 */
export class TaskMailer {
  private readonly db: Database.Database;
  private readonly transport: Transporter;
  private position: number;
  /** On the first start, the log up to here is folded without mailing about the past. */
  private silentUpTo = 0;
  private running = false;
  private readonly relayWaker = new Waker();
  private readonly sendWaker = new Waker();
  private loops: Promise<void>[] = [];
  private unlisten: (() => void) | undefined;
  private readonly s;

  constructor(
    file: string,
    private readonly store: EventStore,
    private readonly config: MailConfig,
    private readonly clock: Clock,
    private readonly wallClock: Clock,
    private readonly logger: Logger,
  ) {
    mkdirSync(dirname(file), { recursive: true });
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('busy_timeout = 5000');
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS mail_checkpoint (id INTEGER PRIMARY KEY CHECK (id = 1), position INTEGER NOT NULL);
      CREATE TABLE IF NOT EXISTS mail_tasks (
        task_id TEXT PRIMARY KEY, instance_id TEXT NOT NULL, title TEXT NOT NULL, user TEXT, role TEXT, due_at TEXT,
        open INTEGER NOT NULL, overdue_sent INTEGER NOT NULL, escalated_sent INTEGER NOT NULL) WITHOUT ROWID;
      CREATE INDEX IF NOT EXISTS mail_tasks_due ON mail_tasks(open, due_at);
      CREATE INDEX IF NOT EXISTS mail_tasks_instance ON mail_tasks(instance_id);
      CREATE TABLE IF NOT EXISTS mails (
        id TEXT PRIMARY KEY, kind TEXT NOT NULL, task_id TEXT NOT NULL, to_address TEXT NOT NULL, subject TEXT NOT NULL,
        text TEXT NOT NULL, html TEXT NOT NULL, status TEXT NOT NULL, attempts INTEGER NOT NULL, next_at INTEGER NOT NULL,
        last_error TEXT, created_at INTEGER NOT NULL, sent_at INTEGER) WITHOUT ROWID;
      CREATE INDEX IF NOT EXISTS mails_due ON mails(status, next_at);
    `);
    this.s = {
      checkpoint: this.db.prepare(
        'INSERT INTO mail_checkpoint (id, position) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET position = excluded.position',
      ),
      created: this.db.prepare(
        `INSERT OR IGNORE INTO mail_tasks (task_id, instance_id, title, user, role, due_at, open, overdue_sent,
           escalated_sent) VALUES (?, ?, ?, ?, ?, ?, 1, ?, ?)`,
      ),
      task: this.db.prepare<[string], TaskRow>('SELECT * FROM mail_tasks WHERE task_id = ?'),
      assign: this.db.prepare('UPDATE mail_tasks SET user = ?, role = coalesce(?, role) WHERE task_id = ?'),
      postpone: this.db.prepare(
        `UPDATE mail_tasks SET due_at = coalesce(?, due_at), overdue_sent = ?, escalated_sent = ? WHERE task_id = ?`,
      ),
      close: this.db.prepare('UPDATE mail_tasks SET open = 0 WHERE task_id = ?'),
      closeInstance: this.db.prepare('UPDATE mail_tasks SET open = 0 WHERE instance_id = ?'),
      overdue: this.db.prepare<[string, number], TaskRow>(
        `SELECT * FROM mail_tasks WHERE open = 1 AND due_at IS NOT NULL AND due_at <= ? AND overdue_sent = 0
           AND user IS NOT NULL LIMIT ?`,
      ),
      escalate: this.db.prepare<[string, number], TaskRow>(
        `SELECT * FROM mail_tasks WHERE open = 1 AND due_at IS NOT NULL AND due_at <= ? AND escalated_sent = 0 LIMIT ?`,
      ),
      overdueSent: this.db.prepare('UPDATE mail_tasks SET overdue_sent = 1 WHERE task_id = ?'),
      escalatedSent: this.db.prepare('UPDATE mail_tasks SET escalated_sent = 1 WHERE task_id = ?'),
      enqueue: this.db.prepare(
        `INSERT OR IGNORE INTO mails (id, kind, task_id, to_address, subject, text, html, status, attempts, next_at,
           created_at) VALUES (?, ?, ?, ?, ?, ?, ?, 'pending', 0, ?, ?)`,
      ),
      due: this.db.prepare<[number, number], MailRow>(
        `SELECT * FROM mails WHERE status = 'pending' AND next_at <= ? ORDER BY next_at LIMIT ?`,
      ),
      sent: this.db.prepare(
        `UPDATE mails SET status = 'sent', attempts = attempts + 1, last_error = NULL, sent_at = ? WHERE id = ?`,
      ),
      failed: this.db.prepare('UPDATE mails SET status = ?, attempts = ?, next_at = ?, last_error = ? WHERE id = ?'),
    };
    this.transport = createTransport(config.smtpUrl);
    const stored = this.db.prepare('SELECT position FROM mail_checkpoint WHERE id = 1').get() as
      { position: number } | undefined;
    this.position = stored?.position ?? 0;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.unlisten = this.store.onCommitted((events) => {
      if (events.some((e) => e.streamId.startsWith(INSTANCE_PREFIX))) this.relayWaker.wake();
    });
    this.loops = [this.relayLoop(), this.sendLoop()];
  }

  async stop(): Promise<void> {
    this.running = false;
    this.unlisten?.();
    this.relayWaker.wake();
    this.sendWaker.wake();
    await Promise.all(this.loops);
    this.loops = [];
    this.transport.close();
  }

  close(): void {
    this.db.close();
  }

  private async relayLoop(): Promise<void> {
    if (this.db.prepare('SELECT 1 FROM mail_checkpoint').get() === undefined) {
      this.silentUpTo = await this.store.headPosition();
    }
    while (this.running) {
      let full = false;
      try {
        full = (await this.relayOnce()) === BATCH;
        this.scanDue();
      } catch (error) {
        this.logger.error({ err: error }, 'mail relay failed; retrying');
      }
      if (!full) await this.relayWaker.wait(this.config.pollMs);
    }
  }

  private async sendLoop(): Promise<void> {
    while (this.running) {
      let sent = 0;
      try {
        sent = await this.sendDue();
      } catch (error) {
        this.logger.error({ err: error }, 'mail sender failed; retrying');
      }
      if (sent === 0) await this.sendWaker.wait(this.config.pollMs);
    }
  }

  /** Folds the next instance events into the open tasks and the mails they make; returns how many it read. */
  async relayOnce(): Promise<number> {
    const head = await this.store.headPosition();
    const events = await this.store.readAll(this.position, BATCH, [INSTANCE_PREFIX]);
    let last = this.position;
    let made = false;
    this.db.transaction(() => {
      for (const event of events) {
        made = this.apply(event) || made;
        last = event.position;
      }
      if (events.length < BATCH) last = Math.max(last, head);
      this.s.checkpoint.run(last);
    })();
    this.position = last;
    if (made) this.sendWaker.wake();
    return events.length;
  }

  private apply(stored: StoredEvent): boolean {
    const event = decodeInstanceEvent(stored);
    const instanceId = stored.streamId.slice(INSTANCE_PREFIX.length);
    const silent = stored.position <= this.silentUpTo;
    const now = this.clock.nowIso();
    switch (event.type) {
      case 'TaskCreated': {
        const d = event.data;
        const past = silent && d.dueAt !== undefined && d.dueAt <= now ? 1 : 0;
        const user = d.assignee.user ?? null;
        this.s.created.run(d.taskId, instanceId, d.title, user, d.assignee.role ?? null, d.dueAt ?? null, past, past);
        return !silent && user !== null && this.enqueue('assigned', d.taskId, user, stored.id);
      }
      case 'TaskClaimed':
        this.s.assign.run(event.data.user, null, event.data.taskId);
        return false;
      case 'TaskReleased':
        this.s.assign.run(null, event.data.role ?? null, event.data.taskId);
        return false;
      case 'TaskReassigned': {
        const { taskId, to } = event.data;
        this.s.assign.run(to.user ?? null, to.role ?? null, taskId);
        return !silent && to.user !== undefined && this.enqueue('assigned', taskId, to.user, stored.id);
      }
      case 'TaskPostponed': {
        const past = silent && event.data.dueAt !== undefined && event.data.dueAt <= now ? 1 : 0;
        this.s.postpone.run(event.data.dueAt ?? null, past, past, event.data.taskId);
        return false;
      }
      case 'TaskCompleted':
        this.s.close.run(event.data.taskId);
        return false;
      case 'InstanceCompleted':
      case 'InstanceTerminated':
        this.s.closeInstance.run(instanceId);
        return false;
      default:
        return false;
    }
  }

  /** Mails about tasks that became overdue, or due for escalation, on the engine's clock; returns how many. */
  scanDue(): number {
    const now = this.clock.now();
    let made = 0;
    this.db.transaction(() => {
      for (const task of this.s.overdue.all(now.toISOString(), 100)) {
        this.s.overdueSent.run(task.task_id);
        if (this.enqueue('overdue', task.task_id, task.user!, `overdue:${task.due_at}`)) made++;
      }
      const escalationTo = this.config.escalationTo;
      if (!escalationTo) return;
      const before = new Date(now.getTime() - this.config.escalateAfterMs).toISOString();
      for (const task of this.s.escalate.all(before, 100)) {
        this.s.escalatedSent.run(task.task_id);
        if (this.enqueue('escalated', task.task_id, undefined, `escalated:${task.due_at}`, escalationTo)) made++;
      }
    })();
    if (made > 0) this.sendWaker.wake();
    return made;
  }

  /** Records one mail to send; false when there is no address for the user. */
  private enqueue(kind: MailKind, taskId: string, user: string | undefined, cause: string, address?: string): boolean {
    const task = this.s.task.get(taskId);
    if (!task) return false;
    let to = address;
    if (to === undefined) {
      if (user === undefined || !MAILABLE_USER.test(user)) {
        this.logger.warn({ taskId, user, kind }, 'no mail: the user id cannot make an address');
        return false;
      }
      to = this.config.to.replaceAll('{user}', user);
    }
    const content = renderTaskMail(kind, {
      taskId,
      title: task.title,
      user: task.user,
      role: task.role,
      dueAt: task.due_at,
      link: `${this.config.publicUrl}/#/tasks/${encodeURIComponent(taskId)}`,
    });
    const id = `${kind}:${taskId}:${cause}`;
    const at = this.wallClock.now().getTime();
    return this.s.enqueue.run(id, kind, taskId, to, content.subject, content.text, content.html, at, at).changes > 0;
  }

  /** Sends the mails due now; returns how many were attempted. */
  async sendDue(): Promise<number> {
    const due = this.s.due.all(this.wallClock.now().getTime(), SENDS_AT_ONCE);
    for (const mail of due) await this.send(mail);
    return due.length;
  }

  private async send(mail: MailRow): Promise<void> {
    try {
      await this.transport.sendMail({
        from: this.config.from,
        to: mail.to_address,
        subject: mail.subject,
        text: mail.text,
        html: mail.html,
        headers: { 'X-Lifeline-Mail-Id': mail.id },
      });
      this.s.sent.run(this.wallClock.now().getTime(), mail.id);
    } catch (error) {
      const attempts = mail.attempts + 1;
      const dead = attempts >= MAX_ATTEMPTS;
      const wait = Math.min(RETRY_MAX_MS, RETRY_MS * 2 ** (attempts - 1));
      const message = error instanceof Error ? error.message : String(error);
      this.s.failed.run(dead ? 'dead' : 'pending', attempts, this.wallClock.now().getTime() + wait, message, mail.id);
      this.logger.warn({ mailId: mail.id, attempts, error: message, dead }, 'sending a mail failed');
    }
  }

  /** The mails about one task, oldest first. */
  mailsOf(taskId: string): TaskMail[] {
    const rows = this.db
      .prepare('SELECT * FROM mails WHERE task_id = ? ORDER BY created_at, id')
      .all(taskId) as MailRow[];
    return rows.map((r) => ({
      id: r.id,
      kind: r.kind,
      taskId: r.task_id,
      to: r.to_address,
      subject: r.subject,
      status: r.status,
      attempts: r.attempts,
      lastError: r.last_error,
    }));
  }

  /** Mails not sent yet, by status (a metric). */
  backlog(): { pending: number; dead: number } {
    const out = { pending: 0, dead: 0 };
    const rows = this.db
      .prepare("SELECT status, count(*) AS count FROM mails WHERE status != 'sent' GROUP BY status")
      .all() as { status: 'pending' | 'dead'; count: number }[];
    for (const row of rows) out[row.status] = row.count;
    return out;
  }
}
