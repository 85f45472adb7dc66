import Database from 'better-sqlite3';
import type { MailKind } from './templates';

/** pending: to be sent (again); sent; failed: given up; unaddressed: the user has no known address. */
export type MailStatus = 'pending' | 'sent' | 'failed' | 'unaddressed';
export const MAIL_STATUSES: readonly MailStatus[] = ['pending', 'sent', 'failed', 'unaddressed'];

export interface NewMail {
  /** Stable for its cause (`assigned:<event id>`, `overdue:<task id>:<due>`): a cause seen twice is mailed once. */
  id: string;
  kind: MailKind;
  taskId: string;
  user: string;
  address: string | null;
  subject: string;
  text: string;
  html: string;
  /** Log position of the event that caused it (null for an overdue notice). */
  position: number | null;
}

export interface MailRow {
  id: string;
  kind: MailKind;
  taskId: string;
  user: string;
  address: string | null;
  subject: string;
  status: MailStatus;
  attempts: number;
  nextAttemptAt: string;
  lastError: string | null;
  createdAt: string;
  sentAt: string | null;
}

interface StoredRow {
  id: string;
  kind: MailKind;
  task_id: string;
  recipient: string;
  address: string | null;
  subject: string;
  text: string;
  html: string;
  status: MailStatus;
  attempts: number;
  next_attempt_at: string;
  last_error: string | null;
  created_at: string;
  sent_at: string | null;
}

/** Where the notifier has read up to: the log (a position), the overdue and escalation looks (epoch ms). */
export type MetaName = 'log' | 'overdue' | 'escalation';

export type DueMail = Pick<StoredRow, 'id' | 'address' | 'subject' | 'text' | 'html' | 'attempts'>;

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS mail_meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
  CREATE TABLE IF NOT EXISTS mails (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    task_id TEXT NOT NULL,
    recipient TEXT NOT NULL,
    address TEXT,
    subject TEXT NOT NULL,
    text TEXT NOT NULL,
    html TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    last_error TEXT,
    created_at TEXT NOT NULL,
    sent_at TEXT,
    position INTEGER
  );
  CREATE INDEX IF NOT EXISTS mails_due ON mails (status, next_attempt_at);
  CREATE INDEX IF NOT EXISTS mails_by_task ON mails (task_id);
`;

/**
 * The mail queue, in its own SQLite file: what is to be sent, what was sent, what failed, and the
 * positions the notifier has read the log and the task list up to. Mails and the checkpoint that
 * produced them are written in one transaction, so a crash neither loses nor repeats a cause.
 */
export class MailOutbox {
  private readonly s;

  private constructor(private readonly db: Database.Database) {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('busy_timeout = 5000');
    db.exec(SCHEMA);
    this.s = {
      getMeta: db.prepare<[string], { value: number }>('SELECT value FROM mail_meta WHERE name = ?'),
      setMeta: db.prepare<[string, number]>(
        'INSERT INTO mail_meta (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value',
      ),
      insert: db.prepare(
        `INSERT OR IGNORE INTO mails (id, kind, task_id, recipient, address, subject, text, html, status, next_attempt_at, created_at, position)
         VALUES (@id, @kind, @taskId, @user, @address, @subject, @text, @html, @status, @at, @at, @position)`,
      ),
      due: db.prepare<[string, number], DueMail>(
        `SELECT id, address, subject, text, html, attempts FROM mails
          WHERE status = 'pending' AND next_attempt_at <= ? ORDER BY next_attempt_at, id LIMIT ?`,
      ),
      sent: db.prepare<[string, string]>(
        "UPDATE mails SET status = 'sent', attempts = attempts + 1, sent_at = ?, last_error = NULL WHERE id = ? AND status = 'pending'",
      ),
      retry: db.prepare<[string, string, string]>(
        "UPDATE mails SET attempts = attempts + 1, next_attempt_at = ?, last_error = ? WHERE id = ? AND status = 'pending'",
      ),
      failed: db.prepare<[string, string]>(
        "UPDATE mails SET status = 'failed', attempts = attempts + 1, last_error = ? WHERE id = ? AND status = 'pending'",
      ),
      resend: db.prepare<[string, string]>(
        "UPDATE mails SET status = 'pending', next_attempt_at = ?, last_error = NULL WHERE id = ? AND status = 'failed'",
      ),
      backlog: db.prepare<[], { n: number }>("SELECT count(*) AS n FROM mails WHERE status = 'pending'"),
    };
  }

  static open(file: string): MailOutbox {
    return new MailOutbox(new Database(file));
  }

  meta(name: MetaName): number | undefined {
    return this.s.getMeta.get(name)?.value;
  }

  /** Stores the mails of one step and where that step read up to, together. Returns how many are new. */
  enqueue(mails: readonly NewMail[], at: string, checkpoint: { name: MetaName; value: number }): number {
    return this.db.transaction(() => {
      let added = 0;
      for (const mail of mails) {
        added += this.s.insert.run({ ...mail, status: mail.address === null ? 'unaddressed' : 'pending', at }).changes;
      }
      this.s.setMeta.run(checkpoint.name, checkpoint.value);
      return added;
    })();
  }

  /** Pending mails whose next attempt has come, oldest first. */
  due(now: string, limit: number): DueMail[] {
    return this.s.due.all(now, limit);
  }

  markSent(id: string, at: string): void {
    this.s.sent.run(at, id);
  }

  markRetry(id: string, nextAttemptAt: string, error: string): void {
    this.s.retry.run(nextAttemptAt, error.slice(0, 1000), id);
  }

  markFailed(id: string, error: string): void {
    this.s.failed.run(error.slice(0, 1000), id);
  }

  /** Puts a failed mail back in the queue (an operator fixed the address or the server). False if it is not failed. */
  resend(id: string, now: string): boolean {
    return this.s.resend.run(now, id).changes === 1;
  }

  backlog(): number {
    return this.s.backlog.get()?.n ?? 0;
  }

  list(filter: { id?: string; status?: MailStatus; taskId?: string; limit: number; offset: number }): MailRow[] {
    const where: string[] = [];
    const params: unknown[] = [];
    if (filter.id !== undefined) {
      where.push('id = ?');
      params.push(filter.id);
    }
    if (filter.status) {
      where.push('status = ?');
      params.push(filter.status);
    }
    if (filter.taskId) {
      where.push('task_id = ?');
      params.push(filter.taskId);
    }
    const rows = this.db
      .prepare(
        `SELECT * FROM mails ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
          ORDER BY created_at DESC, id LIMIT ? OFFSET ?`,
      )
      .all(...params, filter.limit, filter.offset) as StoredRow[];
    return rows.map((r) => ({
      id: r.id,
      kind: r.kind,
      taskId: r.task_id,
      user: r.recipient,
      address: r.address,
      subject: r.subject,
      status: r.status,
      attempts: r.attempts,
      nextAttemptAt: r.next_attempt_at,
      lastError: r.last_error,
      createdAt: r.created_at,
      sentAt: r.sent_at,
    }));
  }

  close(): void {
    this.db.close();
  }
}
