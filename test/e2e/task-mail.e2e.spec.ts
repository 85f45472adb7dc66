import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BuiltServer } from './built-server';
import { SmtpSink } from '../support/smtp-sink';

jest.setTimeout(90_000);

const admin = { sub: 'admin', roles: ['admin'] };
const app = { sub: 'app', roles: ['ingest'] };
const alice = { sub: 'alice', roles: ['purchasing'] };

const definition = {
  key: 'po-approval',
  name: 'Purchase order approval',
  relatedEntity: 'PurchaseOrder',
  executionOrder: 1,
  enabled: true,
  triggers: [{ on: 'created' }],
  start: 'approve',
  activities: {
    approve: {
      type: 'human',
      title: 'Approve purchase order',
      instructions: 'Check the supplier and the amount.',
      assignee: { userFrom: 'entity.ownerId' },
      dueIn: 'PT3S',
      results: ['Approve', 'Reject'],
      next: 'done',
    },
    done: { type: 'end' },
  },
};

/** The built server with LIFELINE_SMTP_URL, talking SMTP to a separate SMTP server process. */
describe('task mails from the built server to a real SMTP server', () => {
  let sink: SmtpSink;
  let server: BuiltServer;
  beforeAll(async () => {
    sink = await SmtpSink.start();
    const contacts = join(mkdtempSync(join(tmpdir(), 'lifeline-mail-e2e-')), 'escalation.json');
    // The task is a user's (no role): the contacts for any role (`*`) hear of its escalation.
    writeFileSync(
      contacts,
      JSON.stringify({ accounting: 'finance-lead@example.com', '*': 'purchasing-lead@example.com' }),
    );
    server = await BuiltServer.start({
      LIFELINE_DEMO: 'false',
      LIFELINE_SMTP_URL: sink.url,
      LIFELINE_MAIL_FROM: 'Lifeline <lifeline@example.com>',
      LIFELINE_MAIL_DOMAIN: 'example.com',
      LIFELINE_PUBLIC_URL: 'https://tasks.example.com',
      LIFELINE_MAIL_POLL_MS: '100',
      LIFELINE_MAIL_OVERDUE_CHECK_MS: '200',
      LIFELINE_MAIL_ESCALATE_AFTER: 'PT2S',
      LIFELINE_MAIL_ESCALATION: contacts,
    });
  });
  afterAll(async () => {
    await server?.stop();
    await sink?.stop();
  });

  it('mails the assignee with the title and a link, again when the task falls overdue, and the new assignee on a reassignment', async () => {
    expect((await server.call(admin, 'POST', '/definitions', definition)).status).toBe(201);
    const recorded = await server.call(app, 'POST', '/entity-events', {
      id: 'po-1-created',
      entityType: 'PurchaseOrder',
      entityId: 'PO-1',
      kind: 'created',
      occurredAt: '2026-11-30T10:00:00Z',
      data: { ownerId: 'alice', amount: 1200 },
    });
    expect(recorded.status).toBe(202);
    const tasks = await server.until(
      () => server.call(alice, 'GET', '/tasks'),
      (answer) => answer.body?.items?.length === 1,
    );
    const taskId = tasks.body.items[0].id as string;

    const [assigned] = await sink.waitFor(1);
    expect(assigned!.to).toEqual(['alice@example.com']);
    expect(assigned!.parsed.subject).toBe('Task for you: Approve purchase order');
    expect(assigned!.parsed.text).toContain(`https://tasks.example.com/#/tasks/${encodeURIComponent(taskId)}`);
    expect(assigned!.parsed.text).toContain('Check the supplier and the amount.');
    expect(assigned!.parsed.text).toContain('Record: PurchaseOrder PO-1');

    // Due 3 s after it was created: the notifier looks every 200 ms.
    const withOverdue = await sink.waitFor(2);
    expect(withOverdue.map((m) => [m.to[0], m.parsed.subject])).toEqual([
      ['alice@example.com', 'Task for you: Approve purchase order'],
      ['alice@example.com', 'Overdue: Approve purchase order'],
    ]);

    // Still open 2 s past its due time: escalated to its assignee and the contacts for any role.
    const escalated = (await sink.waitFor(4)).slice(2);
    expect(escalated.map((m) => [m.to[0], m.parsed.subject]).sort()).toEqual([
      ['alice@example.com', 'Escalated: Approve purchase order'],
      ['purchasing-lead@example.com', 'Escalated: Approve purchase order'],
    ]);

    expect((await server.call(admin, 'POST', `/tasks/${taskId}/reassign`, { user: 'bob' })).status).toBe(200);
    const all = await sink.waitFor(5);
    expect(all[4]!.to).toEqual(['bob@example.com']);
    expect(all[4]!.parsed.subject).toBe('Task for you: Approve purchase order');
    expect(all[4]!.parsed.text).toContain('admin assigned a task to you');

    const listed = await server.until(
      () => server.call(admin, 'GET', '/admin/mails'),
      (answer) => answer.body?.items?.filter((m: { status: string }) => m.status === 'sent').length === 5,
    );
    expect(
      listed.body.items.map((m: { kind: string; user: string; status: string }) => [m.kind, m.user, m.status]).sort(),
    ).toEqual([
      ['task-assigned', 'alice', 'sent'],
      ['task-assigned', 'bob', 'sent'],
      ['task-escalated', 'alice', 'sent'],
      ['task-escalated', 'contact:*', 'sent'],
      ['task-overdue', 'alice', 'sent'],
    ]);
    // Nothing is sent twice.
    await new Promise((r) => setTimeout(r, 500));
    expect(await sink.messages()).toHaveLength(5);
  });

  it('shows the mail queue to admins only, and refuses bad filters with a code', async () => {
    expect((await server.call(alice, 'GET', '/admin/mails')).status).toBe(403);
    const bad = await server.call(admin, 'GET', '/admin/mails?status=lost');
    expect(bad.status).toBe(400);
    const missing = await server.call(admin, 'POST', '/admin/mails/nothing/resend');
    expect([missing.status, missing.body.error.code]).toEqual([404, 'MAIL.NOT_FOUND']);
    const [sent] = (await server.call(admin, 'GET', '/admin/mails?status=sent&limit=1')).body.items;
    const resend = await server.call(admin, 'POST', `/admin/mails/${encodeURIComponent(sent.id)}/resend`);
    expect([resend.status, resend.body.error.code]).toEqual([409, 'MAIL.NOT_FAILED']);
  });
});

describe('without LIFELINE_SMTP_URL', () => {
  it('sends no mail and says so on the mail queue', async () => {
    const server = await BuiltServer.start({ LIFELINE_DEMO: 'false' });
    try {
      const answer = await server.call(admin, 'GET', '/admin/mails');
      expect([answer.status, answer.body.error.code]).toEqual([404, 'MAIL.NOT_CONFIGURED']);
    } finally {
      await server.stop();
    }
  });
});
