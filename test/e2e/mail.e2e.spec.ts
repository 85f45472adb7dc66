import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { FakeClock } from '@lifeline/engine';
import { startLifeline, type RunningLifeline } from '@lifeline/testing';

jest.setTimeout(60_000);

const HOUR = 3600 * 1000;
const PUBLIC_URL = 'https://lifeline.example.test';

interface Received {
  from: string;
  to: string[];
  data: string;
}

/** The smtp-server package as its own process: every message it receives, as sent over SMTP. */
class SmtpSink {
  readonly received: Received[] = [];
  private constructor(
    private readonly child: ChildProcess,
    readonly port: number,
  ) {}
  static async start(): Promise<SmtpSink> {
    const child = spawn(process.execPath, [join(__dirname, 'smtp-sink.mjs')], { stdio: ['ignore', 'pipe', 'inherit'] });
    const lines = createInterface({ input: child.stdout! });
    return new Promise((resolve, reject) => {
      let sink: SmtpSink | undefined;
      child.once('exit', (code) => sink ?? reject(new Error(`the SMTP server exited (${code})`)));
      lines.on('line', (line) => {
        const message = JSON.parse(line) as { port?: number } & Received;
        if (sink) sink.received.push(message);
        else if (message.port) resolve((sink = new SmtpSink(child, message.port)));
      });
    });
  }
  /** The messages to one address, with the body's quoted-printable soft breaks and escapes undone. */
  to(address: string): { subject: string; body: string }[] {
    return this.received
      .filter((m) => m.to.includes(address))
      .map((m) => {
        const unfolded = m.data
          .replace(/=\r?\n/g, '')
          .replace(/=([0-9A-F]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
        return { subject: /^Subject: (.*)$/m.exec(unfolded)?.[1] ?? '', body: unfolded };
      });
  }
  stop(): Promise<void> {
    return new Promise((resolve) => {
      this.child.once('exit', () => resolve());
      this.child.kill('SIGTERM');
    });
  }
}

async function eventually<T>(probe: () => T | undefined, what: string): Promise<T> {
  for (let i = 0; i < 100; i++) {
    const value = probe();
    if (value !== undefined) return value;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('e-mail about tasks over SMTP, to a real SMTP server process', () => {
  let smtp: SmtpSink;
  let lifeline: RunningLifeline;

  beforeAll(async () => {
    smtp = await SmtpSink.start();
    lifeline = await startLifeline({
      demo: false,
      env: {
        LIFELINE_SMTP_URL: `smtp://127.0.0.1:${smtp.port}`,
        LIFELINE_MAIL_FROM: 'Lifeline <lifeline@example.test>',
        LIFELINE_MAIL_TO: '{user}@example.test',
        LIFELINE_PUBLIC_URL: PUBLIC_URL,
        LIFELINE_MAIL_ESCALATION_TO: 'lead@example.test',
        LIFELINE_MAIL_ESCALATE_AFTER: '1d',
        LIFELINE_MAIL_POLL_MS: '100',
      },
    });
    const published = await lifeline.call('admin', 'POST', '/definitions', {
      key: 'purchase-approval',
      name: 'Purchase approval',
      relatedEntity: 'PurchaseOrder',
      triggers: [{ on: 'created' }],
      start: 'approve',
      activities: {
        approve: {
          type: 'human',
          title: 'Approve purchase order PO-77',
          assignee: { userFrom: 'entity.ownerId' },
          dueIn: 'PT8H',
          results: ['Approved'],
          next: 'file',
        },
        file: { type: 'human', title: 'File the approved order', assignee: { role: 'purchasing' }, next: 'done' },
        done: { type: 'end' },
      },
    });
    expect(published.status).toBe(201);
  });

  afterAll(async () => {
    await lifeline?.stop();
    await smtp?.stop();
  });

  it('mails the assignee with the title and the link, then when overdue, then the escalation address; a reassignment mails the new assignee', async () => {
    const recorded = await lifeline.call('app', 'POST', '/entity-events', {
      id: 'po-77-created',
      entityType: 'PurchaseOrder',
      entityId: 'PO-77',
      kind: 'created',
      occurredAt: '2026-11-21T10:00:00Z',
      data: { ownerId: 'bob' },
    });
    expect(recorded.status).toBe(202);
    const task = (await lifeline.call('bob', 'GET', '/tasks')).body.items[0] as { id: string; title: string };
    expect(task.title).toBe('Approve purchase order PO-77');
    const link = `${PUBLIC_URL}/#/tasks/${task.id}`;

    const assigned = await eventually(() => smtp.to('bob@example.test')[0], 'the assignment mail');
    expect(assigned.subject).toBe('Task assigned to you: Approve purchase order PO-77');
    expect(assigned.body).toContain('The task "Approve purchase order PO-77" is assigned to you.');
    expect(assigned.body).toContain(link);
    expect(assigned.body).toContain(`<a href="${link}">Open the task</a>`);
    expect(smtp.received[0]!.from).toBe('lifeline@example.test');

    // 8 hours on (the fake clock), the task is overdue: its assignee hears it once.
    (lifeline.clock as FakeClock).advance(8 * HOUR + 60_000);
    const overdue = await eventually(() => smtp.to('bob@example.test')[1], 'the overdue mail');
    expect(overdue.subject).toBe('Task overdue: Approve purchase order PO-77');
    expect(overdue.body).toContain(link);
    expect(smtp.to('lead@example.test')).toEqual([]);

    // A day past the due time it is escalated: the escalation address hears who holds it.
    (lifeline.clock as FakeClock).advance(24 * HOUR);
    const escalated = await eventually(() => smtp.to('lead@example.test')[0], 'the escalation mail');
    expect(escalated.subject).toBe('Task escalated: Approve purchase order PO-77');
    expect(escalated.body).toContain('Assigned to: bob');
    expect(escalated.body).toContain(link);

    // Reassigned to carol: she is mailed about it; bob got three mails, each once.
    const reassigned = await lifeline.call('bob', 'POST', `/tasks/${task.id}/reassign`, { user: 'carol' });
    expect(reassigned.status).toBe(200);
    const forCarol = await eventually(() => smtp.to('carol@example.test')[0], 'the reassignment mail');
    expect(forCarol.subject).toBe('Task assigned to you: Approve purchase order PO-77');
    await new Promise((r) => setTimeout(r, 500));
    expect(smtp.to('bob@example.test').map((m) => m.subject)).toEqual([
      'Task assigned to you: Approve purchase order PO-77',
      'Task overdue: Approve purchase order PO-77',
    ]);
    expect(lifeline.engine.mailer!.mailsOf(task.id).map((m) => [m.kind, m.to, m.status])).toEqual([
      ['assigned', 'bob@example.test', 'sent'],
      ['overdue', 'bob@example.test', 'sent'],
      ['escalated', 'lead@example.test', 'sent'],
      ['assigned', 'carol@example.test', 'sent'],
    ]);
  });
});
