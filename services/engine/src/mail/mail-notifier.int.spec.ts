import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { SqliteEventStore } from '@lifeline/event-store';
import { FakeClock } from '../shared/clock';
import { loadMailConfig, type MailConfig } from './mail-config';
import { MailNotifier, type DueTask, type TaskLookup } from './mail-notifier';
import { SmtpSink } from '../../../../test/support/smtp-sink';

jest.setTimeout(30_000);

const logger = pino({ level: 'silent' });
const meta = (actor: string, at: string) => ({ correlationId: 'c', causationId: 'c', actor, at });

/** A task list the notifier asks: what the read model would answer (the store and SMTP are real). */
class Tasks implements TaskLookup {
  readonly rows = new Map<string, DueTask>();
  task(taskId: string) {
    const row = this.rows.get(taskId);
    return row ? { title: row.title, dueAt: row.dueAt, entity: row.entity, assignee: row.assignee } : undefined;
  }
  fallingDue(after: { dueAt: string; id: string }, upTo: string, limit: number, assignedOnly: boolean): DueTask[] {
    return [...this.rows.values()]
      .filter((t) => !assignedOnly || t.assignee !== null)
      .filter((t) => (t.dueAt > after.dueAt || (t.dueAt === after.dueAt && t.id > after.id)) && t.dueAt <= upTo)
      .sort((a, b) => (a.dueAt === b.dueAt ? (a.id < b.id ? -1 : 1) : a.dueAt < b.dueAt ? -1 : 1))
      .slice(0, limit);
  }
}

describe('MailNotifier (a real SQLite store, a real SMTP server process, a fake clock)', () => {
  let dir: string;
  let store: SqliteEventStore;
  let sink: SmtpSink;
  let clock: FakeClock;
  let tasks: Tasks;
  let notifier: MailNotifier | undefined;
  let revision = -1;

  const config = (extra: Record<string, string> = {}): MailConfig =>
    loadMailConfig(
      {
        LIFELINE_SMTP_URL: sink.url,
        LIFELINE_MAIL_FROM: 'Lifeline <lifeline@example.com>',
        LIFELINE_PUBLIC_URL: 'https://lifeline.example.com/',
        LIFELINE_MAIL_DOMAIN: 'example.com',
        LIFELINE_MAIL_POLL_MS: '60000',
        LIFELINE_MAIL_OVERDUE_CHECK_MS: '60000',
        LIFELINE_MAIL_RETRY_MS: '30000',
        LIFELINE_MAIL_MAX_ATTEMPTS: '5',
        ...extra,
      },
      (message) => new Error(message),
    )!;

  const start = async (extra: Record<string, string> = {}) => {
    notifier = new MailNotifier(config(extra), store, dir, clock, logger, tasks);
    await notifier.start();
    return notifier;
  };
  const stop = async () => {
    await notifier?.stop();
    notifier = undefined;
  };

  /** A task created in instance i1, assigned to `user` (or to a role), as the decider records it. */
  const createTask = async (taskId: string, assignee: { user?: string; role?: string }, dueAt?: string) => {
    const at = clock.nowIso();
    const result = await store.append({
      streamId: 'instance-i1',
      expectedRevision: revision < 0 ? 'no-stream' : revision,
      events: [
        {
          id: `00000000-0000-7000-8000-${String(revision + 2).padStart(12, '0')}`,
          type: 'TaskCreated',
          data: {
            taskId,
            activityId: 'review',
            title: `Review ${taskId} <urgent>`,
            assignee,
            startAt: at,
            ...(dueAt ? { dueAt } : {}),
          },
          metadata: meta('system', at),
        },
      ],
    });
    revision = result.nextRevision;
    return result.position;
  };

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'lifeline-mail-int-'));
    store = SqliteEventStore.open(join(dir, 'events.db'));
    clock = new FakeClock('2026-11-30T10:00:00.000Z');
    tasks = new Tasks();
    revision = -1;
  });
  afterEach(async () => {
    await stop();
    await store.close();
    await sink?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('mails the user a task is created for, once, with its title and link; a restart does not mail it again', async () => {
    sink = await SmtpSink.start();
    const n = await start();
    const position = await createTask('t1', { user: 'alice' }, '2026-12-01T10:00:00.000Z');
    await createTask('t2', { role: 'accounting' });
    expect(await n.caughtUpTo(position + 1)).toBe(true);
    await n.sendDue();
    const [mail, ...more] = await sink.waitFor(1);
    expect(more).toEqual([]);
    expect(mail!.to).toEqual(['alice@example.com']);
    expect(mail!.from).toBe('lifeline@example.com');
    expect(mail!.parsed.subject).toBe('Task for you: Review t1 <urgent>');
    expect(mail!.parsed.text).toContain('https://lifeline.example.com/#/tasks/t1');
    expect(mail!.parsed.text).toContain('Due: 2026-12-01T10:00:00.000Z');
    expect(mail!.parsed.html).toContain('Review t1 &lt;urgent&gt;');
    expect(mail!.parsed.messageId).toBe(
      `<${encodeURIComponent(n.outbox.list({ limit: 1, offset: 0 })[0]!.id)}@lifeline>`,
    );
    expect(n.outbox.list({ limit: 10, offset: 0 }).map((m) => [m.user, m.status, m.attempts])).toEqual([
      ['alice', 'sent', 1],
    ]);

    await stop();
    const again = await start();
    await again.caughtUpTo(position + 1);
    await again.sendDue();
    expect(await sink.messages()).toHaveLength(1);
  });

  it('mails a boundary event’s reminder to whoever holds the task now, once per reminder; a role’s unclaimed task mails nobody', async () => {
    sink = await SmtpSink.start();
    const n = await start();
    const base = {
      instanceId: 'i1',
      title: 'Review the invoice',
      role: 'accounting',
      dueAt: '2026-12-02T10:00:00.000Z',
    };
    tasks.rows.set('i1.review.1', {
      ...base,
      id: 'i1.review.1',
      assignee: 'bob',
      entity: { type: 'Invoice', id: 'INV-7' },
    });
    tasks.rows.set('i1.review.2', { ...base, id: 'i1.review.2', assignee: null, entity: null });
    const remind = async (visit: number, n: number) => {
      const at = clock.nowIso();
      const result = await store.append({
        streamId: 'instance-i1',
        expectedRevision: revision < 0 ? 'no-stream' : revision,
        events: [
          {
            id: `00000000-0000-7000-9000-${String(n).padStart(12, '0')}`,
            type: 'BoundaryTriggered',
            data: {
              activityId: 'review',
              visit,
              index: 0,
              kind: 'timer',
              interrupting: false,
              remind: true,
              dueAt: at,
            },
            metadata: meta('system', at),
          },
        ],
      });
      revision = result.nextRevision;
      return result.position;
    };
    await remind(1, 1);
    const last = await remind(2, 2);
    expect(await n.caughtUpTo(last)).toBe(true);
    await n.sendDue();
    const [mail, ...more] = await sink.waitFor(1);
    expect(more).toEqual([]);
    expect(mail!.to).toEqual(['bob@example.com']);
    expect(mail!.parsed.subject).toBe('Reminder: Review the invoice');
    expect(mail!.parsed.text).toContain('Record: Invoice INV-7');
    expect(mail!.parsed.text).toContain('https://lifeline.example.com/#/tasks/i1.review.1');
    expect(n.outbox.list({ limit: 10, offset: 0 }).map((m) => [m.kind, m.user])).toEqual([['task-reminder', 'bob']]);
  });

  it('retries a transient refusal (451) with a growing wait on the clock, and the mail arrives once', async () => {
    sink = await SmtpSink.start({ failFirst: 2 });
    const n = await start();
    const position = await createTask('t1', { user: 'bob' });
    await n.caughtUpTo(position);
    await n.sendDue();
    const row = () => n.outbox.list({ limit: 1, offset: 0 })[0]!;
    expect([row().status, row().attempts, row().nextAttemptAt]).toEqual(['pending', 1, '2026-11-30T10:00:30.000Z']);
    expect(row().lastError).toContain('451');
    clock.advance(29_999);
    await n.sendDue();
    expect(row().attempts).toBe(1);
    clock.advance(1);
    await n.sendDue();
    expect([row().status, row().attempts, row().nextAttemptAt]).toEqual(['pending', 2, '2026-11-30T10:01:30.000Z']);
    clock.advance(60_000);
    await n.sendDue();
    expect([row().status, row().attempts]).toEqual(['sent', 3]);
    expect((await sink.waitFor(1)).map((m) => m.to)).toEqual([['bob@example.com']]);
  });

  it('gives up at once on a permanent refusal (550), and an operator can send it again', async () => {
    sink = await SmtpSink.start({ reject: ['carol@example.com'] });
    const n = await start();
    const position = await createTask('t1', { user: 'carol' });
    await n.caughtUpTo(position);
    await n.sendDue();
    const [mail] = n.outbox.list({ limit: 1, offset: 0 });
    expect([mail!.status, mail!.attempts]).toEqual(['failed', 1]);
    expect(mail!.lastError).toContain('550');
    expect(n.outbox.resend(mail!.id, clock.nowIso())).toBe(true);
    expect(n.outbox.resend(mail!.id, clock.nowIso())).toBe(false);
    expect(n.outbox.list({ limit: 1, offset: 0 })[0]!.status).toBe('pending');
  });

  it('records a user without an address as unaddressed and sends nothing for them', async () => {
    sink = await SmtpSink.start();
    const n = await start({ LIFELINE_MAIL_DOMAIN: '' });
    const position = await createTask('t1', { user: 'dave' });
    await createTask('t2', { user: 'erin@example.org' });
    await n.caughtUpTo(position + 1);
    await n.sendDue();
    expect(n.outbox.list({ limit: 10, offset: 0 }).map((m) => [m.user, m.address, m.status])).toEqual(
      expect.arrayContaining([
        ['dave', null, 'unaddressed'],
        ['erin@example.org', 'erin@example.org', 'sent'],
      ]),
    );
    expect((await sink.waitFor(1)).map((m) => m.to)).toEqual([['erin@example.org']]);
  });

  it('switched on for a log that already has tasks, mails only what happens from then on', async () => {
    sink = await SmtpSink.start();
    await createTask('old', { user: 'alice' });
    const n = await start();
    const position = await createTask('new', { user: 'alice' });
    await n.caughtUpTo(position);
    await n.sendDue();
    const mails = await sink.waitFor(1);
    expect(mails.map((m) => m.parsed.subject)).toEqual(['Task for you: Review new <urgent>']);
  });

  it('notices each assigned task once when it falls due, and again for a new due time; not those due before it was switched on', async () => {
    sink = await SmtpSink.start();
    const due = (id: string, dueAt: string, assignee: string | null = 'alice'): DueTask => ({
      id,
      title: `Task ${id}`,
      assignee,
      role: 'accounting',
      dueAt,
      instanceId: 'i1',
      entity: { type: 'Invoice', id: 'INV-1' },
    });
    tasks.rows.set('past', due('past', '2026-11-30T09:00:00.000Z'));
    const n = await start();
    tasks.rows.set('a', due('a', '2026-11-30T10:05:00.000Z'));
    tasks.rows.set('b', due('b', '2026-11-30T10:05:00.000Z', 'bob'));
    tasks.rows.set('later', due('later', '2026-11-30T12:00:00.000Z'));
    expect(n.checkOverdue()).toBe(0);
    clock.advance(5 * 60_000);
    expect(n.checkOverdue()).toBe(2);
    expect(n.checkOverdue()).toBe(0);
    clock.advance(60_000);
    // Postponed: the same task with a new due time is a new notice.
    tasks.rows.set('a', due('a', '2026-11-30T10:06:00.000Z'));
    expect(n.checkOverdue()).toBe(1);
    await n.sendDue();
    const mails = await sink.waitFor(3);
    expect(mails.map((m) => [m.to[0], m.parsed.subject]).sort()).toEqual([
      ['alice@example.com', 'Overdue: Task a'],
      ['alice@example.com', 'Overdue: Task a'],
      ['bob@example.com', 'Overdue: Task b'],
    ]);
    expect(mails[0]!.parsed.text).toContain('Record: Invoice INV-1');
  });

  it("escalates a task still open past its due time by the configured span: its assignee and its role's contacts hear, once", async () => {
    sink = await SmtpSink.start();
    const contacts = join(dir, 'escalation.json');
    writeFileSync(
      contacts,
      JSON.stringify({ accounting: ['lead@example.com', 'cfo@example.com'], '*': 'ops@example.com' }),
    );
    const n = await start({ LIFELINE_MAIL_ESCALATE_AFTER: 'PT1H', LIFELINE_MAIL_ESCALATION: contacts });
    const task = (id: string, assignee: string | null, role: string | null): DueTask => ({
      id,
      title: `Task ${id}`,
      assignee,
      role,
      dueAt: '2026-11-30T10:05:00.000Z',
      instanceId: 'i1',
      entity: { type: 'Invoice', id: 'INV-1' },
    });
    tasks.rows.set('mine', task('mine', 'alice', 'accounting'));
    tasks.rows.set('queued', task('queued', null, 'support'));
    clock.set('2026-11-30T11:04:59.999Z');
    expect(n.checkEscalations()).toBe(0);
    clock.set('2026-11-30T11:05:00.000Z');
    expect(n.checkEscalations()).toBe(4);
    expect(n.checkEscalations()).toBe(0);
    await n.sendDue();
    const mails = await sink.waitFor(4);
    expect(mails.map((m) => [m.to[0], m.parsed.subject]).sort()).toEqual([
      ['alice@example.com', 'Escalated: Task mine'],
      ['cfo@example.com', 'Escalated: Task mine'],
      ['lead@example.com', 'Escalated: Task mine'],
      ['ops@example.com', 'Escalated: Task queued'],
    ]);
    const ops = mails.find((m) => m.to[0] === 'ops@example.com')!;
    expect(ops.parsed.text).toContain('With: role support');
    expect(ops.parsed.text).toContain('due time (2026-11-30T10:05:00.000Z)');
    // Without LIFELINE_MAIL_ESCALATE_AFTER nothing escalates.
    await stop();
    const off = await start();
    clock.advance(86_400_000);
    tasks.rows.set('later', task('later', 'bob', 'accounting'));
    expect(off.checkEscalations()).toBe(0);
  });
});
