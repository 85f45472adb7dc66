import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigInvalid, loadConfig } from '../shared/config';
import { addressOf, escalationContacts, isMailAddress, loadMailConfig } from './mail-config';
import { render } from './templates';

const fail = (message: string) => new ConfigInvalid(message);
const base = { LIFELINE_SMTP_URL: 'smtp://127.0.0.1:2525', LIFELINE_MAIL_FROM: 'Lifeline <lifeline@example.com>' };

describe('mail configuration', () => {
  it('sends nothing unless LIFELINE_SMTP_URL is set', () => {
    expect(loadMailConfig({}, fail)).toBeUndefined();
    expect(loadConfig({}).mail).toBeUndefined();
  });

  it('reads the settings with their defaults', () => {
    const config = loadMailConfig({ ...base, PORT: '4000' }, fail)!;
    expect(config).toMatchObject({
      smtpUrl: 'smtp://127.0.0.1:2525',
      from: 'Lifeline <lifeline@example.com>',
      publicUrl: 'http://127.0.0.1:4000',
      addresses: {},
      pollMs: 1000,
      overdueCheckMs: 60_000,
      retryMs: 30_000,
      maxAttempts: 10,
    });
    expect(loadConfig(base).mail?.smtpUrl).toBe('smtp://127.0.0.1:2525');
  });

  it.each([
    [{ LIFELINE_SMTP_URL: 'not a url' }, /LIFELINE_SMTP_URL must be a URL/],
    [{ LIFELINE_SMTP_URL: 'http://mail.example.com' }, /must start with smtp:\/\/ or smtps:\/\//],
    [{ LIFELINE_MAIL_FROM: '' }, /needs LIFELINE_MAIL_FROM/],
    [{ LIFELINE_MAIL_FROM: 'someone' }, /LIFELINE_MAIL_FROM is not an address/],
    [{ LIFELINE_MAIL_FROM: 'a@example.com\r\nBcc: x@evil.example' }, /LIFELINE_MAIL_FROM is not an address/],
    [{ LIFELINE_PUBLIC_URL: 'javascript:alert(1)' }, /LIFELINE_PUBLIC_URL must be an http\(s\) URL/],
    [{ LIFELINE_MAIL_DOMAIN: 'not a domain' }, /LIFELINE_MAIL_DOMAIN is not a domain/],
    [{ LIFELINE_MAIL_MAX_ATTEMPTS: '0' }, /LIFELINE_MAIL_MAX_ATTEMPTS must be a whole number of at least 1/],
    [{ LIFELINE_MAIL_RETRY_MS: '1e3' }, /LIFELINE_MAIL_RETRY_MS must be a whole number/],
    [{ LIFELINE_MAIL_ADDRESSES: '/nowhere/addresses.json' }, /LIFELINE_MAIL_ADDRESSES: no file at/],
    [{ LIFELINE_MAIL_TEMPLATES: '/nowhere/templates' }, /LIFELINE_MAIL_TEMPLATES: no directory at/],
    [
      { LIFELINE_MAIL_ESCALATE_AFTER: 'P1M' },
      /LIFELINE_MAIL_ESCALATE_AFTER must be an ISO-8601 duration of days and time/,
    ],
    [{ LIFELINE_MAIL_ESCALATE_AFTER: '3600' }, /LIFELINE_MAIL_ESCALATE_AFTER must be an ISO-8601 duration/],
    [{ LIFELINE_MAIL_ESCALATION: '/nowhere/escalation.json' }, /LIFELINE_MAIL_ESCALATION: no file at/],
  ])('refuses %j with CONFIG.INVALID', (env, message) => {
    expect(() => loadConfig({ ...base, ...env })).toThrow(message);
    try {
      loadConfig({ ...base, ...env });
    } catch (error) {
      expect((error as ConfigInvalid).code).toBe('CONFIG.INVALID');
    }
  });

  it('reads the address book, refusing entries that are not one address', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lifeline-mail-config-'));
    const file = join(dir, 'addresses.json');
    writeFileSync(file, JSON.stringify({ alice: 'alice@corp.example', bob: 'Bob.Builder+tasks@corp.example' }));
    const config = loadMailConfig(
      { ...base, LIFELINE_MAIL_ADDRESSES: file, LIFELINE_MAIL_DOMAIN: 'example.com' },
      fail,
    )!;
    expect(addressOf(config, 'alice')).toBe('alice@corp.example');
    expect(addressOf(config, 'bob')).toBe('Bob.Builder+tasks@corp.example');
    expect(addressOf(config, 'carol')).toBe('carol@example.com');
    expect(addressOf(config, 'dave@elsewhere.example')).toBe('dave@elsewhere.example');
    // Not a local part: no guessed address (and never one built from a header-breaking id).
    expect(addressOf(config, 'eve smith')).toBeUndefined();
    expect(addressOf(config, 'x\r\nBcc: y@evil.example')).toBeUndefined();
    expect(addressOf({ addresses: {} }, 'carol')).toBeUndefined();
    expect(addressOf(config, '__proto__')).toBe('__proto__@example.com');
    for (const [content, why] of [
      ['[]', /must hold an object/],
      ['{"a": "two@x.example, three@x.example"}', /the address of "a" is not an address/],
      ['{"a": 42}', /the address of "a" is not an address/],
      ['{', /is not JSON/],
    ] as const) {
      writeFileSync(file, content);
      expect(() => loadMailConfig({ ...base, LIFELINE_MAIL_ADDRESSES: file }, fail)).toThrow(why);
    }
  });

  it('reads the escalation span and contacts', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lifeline-mail-config-'));
    const file = join(dir, 'escalation.json');
    writeFileSync(file, JSON.stringify({ accounting: ['lead@corp.example'], '*': 'ops@corp.example' }));
    const config = loadMailConfig(
      { ...base, LIFELINE_MAIL_ESCALATE_AFTER: 'P1DT2H', LIFELINE_MAIL_ESCALATION: file },
      fail,
    )!;
    expect(config.escalateAfterMs).toBe(26 * 3_600_000);
    expect(escalationContacts(config, 'accounting')).toEqual(['lead@corp.example']);
    expect(escalationContacts(config, 'support')).toEqual(['ops@corp.example']);
    expect(escalationContacts(config, null)).toEqual(['ops@corp.example']);
    expect(escalationContacts({ escalation: {} }, 'support')).toEqual([]);
    writeFileSync(file, JSON.stringify({ accounting: [] }));
    expect(() => loadMailConfig({ ...base, LIFELINE_MAIL_ESCALATION: file }, fail)).toThrow(
      /the contacts of "accounting" are not addresses/,
    );
  });

  it('knows an address from what is not one', () => {
    expect(isMailAddress('a.b+c@mail.example.com')).toBe(true);
    for (const text of ['a@b', 'a b@c.example', '<a@b.example>', 'a@b.example\n', 'a@-b.example', '@b.example']) {
      expect(isMailAddress(text)).toBe(false);
    }
  });
});

describe('mail templates', () => {
  const values = {
    user: 'alice',
    title: 'Review <b>INV-1</b> & pay',
    instructions: 'Check "it"',
    link: 'https://lifeline.example.com/#/tasks/t1',
    dueAt: '2026-12-01T10:00:00.000Z',
    record: 'Invoice INV-1',
    by: 'bob',
    instanceId: 'i1',
  };

  it('fills the defaults: escaped in HTML, as is in text, one line in the subject', () => {
    const config = loadMailConfig(base, fail)!;
    const mail = render(config.templates['task-assigned'], { ...values, title: 'Line one\r\nBcc: evil@example.com' });
    expect(mail.subject).toBe('Task for you: Line one Bcc: evil@example.com');
    const html = render(config.templates['task-assigned'], values).html;
    expect(html).toContain('<strong>Review &lt;b&gt;INV-1&lt;/b&gt; &amp; pay</strong>');
    expect(html).toContain('<a href="https://lifeline.example.com/#/tasks/t1">');
    expect(render(config.templates['task-assigned'], values).text).toContain(
      'bob assigned a task to you: Review <b>INV-1</b> & pay',
    );
  });

  it('takes a template part from the templates directory and refuses an unknown field at start', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lifeline-mail-templates-'));
    writeFileSync(join(dir, 'task-overdue.subject.txt'), '[{{ record }}] late: {{title}}\n');
    const config = loadMailConfig({ ...base, LIFELINE_MAIL_TEMPLATES: dir }, fail)!;
    expect(render(config.templates['task-overdue'], values).subject).toBe(
      '[Invoice INV-1] late: Review <b>INV-1</b> & pay',
    );
    // The other parts keep their defaults.
    expect(config.templates['task-overdue'].text).toContain('Your task is overdue since {{dueAt}}');
    writeFileSync(join(dir, 'task-assigned.html'), '<p>{{password}}</p>');
    expect(() => loadMailConfig({ ...base, LIFELINE_MAIL_TEMPLATES: dir }, fail)).toThrow(
      /task-assigned.html uses \{\{password\}\}; the fields are user, title/,
    );
  });
});
