import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseDuration } from '@lifeline/process-domain';
import { loadTemplates, type MailTemplates } from './templates';

/** How a setting that cannot be used is reported (the configuration's own error, CONFIG.INVALID). */
type Fail = (message: string) => Error;

/** E-mail to people about their tasks (README: E-mail). Absent unless LIFELINE_SMTP_URL is set. */
export interface MailConfig {
  /** smtp://user:pass@host:port or smtps://… (nodemailer's connection URL). */
  smtpUrl: string;
  /** The From header, e.g. `Lifeline <lifeline@example.com>`. */
  from: string;
  /** Where the web UI is reached from a mail client: task links start with it. */
  publicUrl: string;
  /** user id → address, from LIFELINE_MAIL_ADDRESSES (a JSON file). */
  addresses: Record<string, string>;
  /** LIFELINE_MAIL_DOMAIN: a user without an entry gets `<user>@<domain>`. */
  domain?: string;
  templates: MailTemplates;
  /** How often due mails are looked for (ms). */
  pollMs: number;
  /** How often tasks that fell due are looked for (ms). */
  overdueCheckMs: number;
  /** The first retry waits this long (ms); each further one twice as long, at most an hour. */
  retryMs: number;
  /** After this many failed attempts a mail is given up (status `failed`). */
  maxAttempts: number;
  /** LIFELINE_MAIL_ESCALATE_AFTER: a task still open this long past its due time is escalated by mail. */
  escalateAfterMs?: number;
  /** LIFELINE_MAIL_ESCALATION: role (or `*` for any) → the addresses an escalation goes to. */
  escalation: Record<string, string[]>;
}

/** An address nodemailer may put in a header: one mailbox, no spaces, no line breaks, no list. */
const ADDRESS =
  /^[^\s@<>()[\]\\,;:"]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$/;

export const isMailAddress = (text: string): boolean => text.length <= 254 && ADDRESS.test(text);

function wholeMs(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, fail: Fail): number {
  const text = env[name];
  if (text === undefined || text.trim() === '') return fallback;
  if (!/^[0-9]{1,10}$/.test(text.trim()) || Number(text) < min) {
    throw fail(`${name} must be a whole number of at least ${min}, not ${text}`);
  }
  return Number(text);
}

/** The mail settings, or undefined when LIFELINE_SMTP_URL is not set (no mail is sent). */
export function loadMailConfig(env: NodeJS.ProcessEnv, fail: Fail): MailConfig | undefined {
  const smtpUrl = env.LIFELINE_SMTP_URL?.trim();
  if (!smtpUrl) return undefined;
  let url: URL;
  try {
    url = new URL(smtpUrl);
  } catch {
    throw fail('LIFELINE_SMTP_URL must be a URL such as smtp://user:password@mail.example.com:587');
  }
  if (url.protocol !== 'smtp:' && url.protocol !== 'smtps:') {
    throw fail(`LIFELINE_SMTP_URL must start with smtp:// or smtps://, not ${url.protocol}//`);
  }
  const from = env.LIFELINE_MAIL_FROM?.trim();
  if (!from) throw fail('LIFELINE_SMTP_URL needs LIFELINE_MAIL_FROM (the From address of task mails)');
  const fromAddress = /<([^<>]+)>\s*$/.exec(from)?.[1] ?? from;
  if (!isMailAddress(fromAddress) || /[\r\n]/.test(from)) {
    throw fail(`LIFELINE_MAIL_FROM is not an address: ${from}`);
  }
  const publicUrl = (env.LIFELINE_PUBLIC_URL ?? `http://${env.HOST ?? '127.0.0.1'}:${env.PORT ?? 3000}`).replace(
    /\/+$/,
    '',
  );
  if (!/^https?:\/\/[^\s]+$/.test(publicUrl)) {
    throw fail(`LIFELINE_PUBLIC_URL must be an http(s) URL, not ${publicUrl}`);
  }
  const domain = env.LIFELINE_MAIL_DOMAIN?.trim() || undefined;
  if (domain !== undefined && !isMailAddress(`user@${domain}`)) {
    throw fail(`LIFELINE_MAIL_DOMAIN is not a domain: ${domain}`);
  }
  return {
    smtpUrl,
    from,
    publicUrl,
    addresses: loadAddresses(env.LIFELINE_MAIL_ADDRESSES, fail),
    ...(domain ? { domain } : {}),
    templates: loadTemplates(env.LIFELINE_MAIL_TEMPLATES ? resolve(env.LIFELINE_MAIL_TEMPLATES) : undefined, fail),
    pollMs: wholeMs(env, 'LIFELINE_MAIL_POLL_MS', 1000, 10, fail),
    overdueCheckMs: wholeMs(env, 'LIFELINE_MAIL_OVERDUE_CHECK_MS', 60_000, 10, fail),
    retryMs: wholeMs(env, 'LIFELINE_MAIL_RETRY_MS', 30_000, 1, fail),
    maxAttempts: wholeMs(env, 'LIFELINE_MAIL_MAX_ATTEMPTS', 10, 1, fail),
    ...escalateAfter(env.LIFELINE_MAIL_ESCALATE_AFTER, fail),
    escalation: loadEscalation(env.LIFELINE_MAIL_ESCALATION, fail),
  };
}

/** LIFELINE_MAIL_ESCALATE_AFTER: an ISO-8601 duration of days and time (`P1D`, `PT4H`). */
function escalateAfter(text: string | undefined, fail: Fail): { escalateAfterMs?: number } {
  if (text === undefined || text.trim() === '') return {};
  const d = parseDuration(text.trim());
  const ms =
    d && d.years === 0 && d.months === 0
      ? (((d.weeks * 7 + d.days) * 24 + d.hours) * 3600 + d.minutes * 60 + d.seconds) * 1000
      : undefined;
  if (ms === undefined || !(ms > 0) || !Number.isSafeInteger(Math.round(ms))) {
    throw fail(`LIFELINE_MAIL_ESCALATE_AFTER must be an ISO-8601 duration of days and time (P1D, PT4H), not ${text}`);
  }
  return { escalateAfterMs: Math.round(ms) };
}

/** LIFELINE_MAIL_ESCALATION: the path of a JSON object mapping a role (or `*`) to an address or a list of them. */
function loadEscalation(file: string | undefined, fail: Fail): Record<string, string[]> {
  const parsed = readJsonObject('LIFELINE_MAIL_ESCALATION', file, fail);
  const out = Object.create(null) as Record<string, string[]>;
  for (const [role, value] of Object.entries(parsed)) {
    const list = Array.isArray(value) ? value : [value];
    if (list.length === 0 || !list.every((a) => typeof a === 'string' && isMailAddress(a))) {
      throw fail(`LIFELINE_MAIL_ESCALATION: the contacts of ${JSON.stringify(role)} are not addresses`);
    }
    out[role] = list as string[];
  }
  return out;
}

/** Where an escalation of a task of `role` goes: that role's contacts, else those of `*`. */
export function escalationContacts(config: Pick<MailConfig, 'escalation'>, role: string | null): string[] {
  const own =
    role !== null && Object.prototype.hasOwnProperty.call(config.escalation, role)
      ? config.escalation[role]
      : undefined;
  return own ?? config.escalation['*'] ?? [];
}

function readJsonObject(name: string, file: string | undefined, fail: Fail): Record<string, unknown> {
  if (!file) return {};
  const path = resolve(file);
  if (!existsSync(path)) throw fail(`${name}: no file at ${path}`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw fail(`${name}: ${path} is not JSON (${(error as Error).message})`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw fail(`${name}: ${path} must hold an object`);
  }
  return parsed as Record<string, unknown>;
}

/** LIFELINE_MAIL_ADDRESSES: the path of a JSON object mapping user ids to addresses. */
function loadAddresses(file: string | undefined, fail: Fail): Record<string, string> {
  const parsed = readJsonObject('LIFELINE_MAIL_ADDRESSES', file, fail);
  const out: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const [user, address] of Object.entries(parsed)) {
    if (typeof address !== 'string' || !isMailAddress(address)) {
      throw fail(`LIFELINE_MAIL_ADDRESSES: the address of ${JSON.stringify(user)} is not an address`);
    }
    out[user] = address;
  }
  return out;
}

/** Where a user's mail goes: their entry, their id when it is an address, or `<user>@<domain>`; else nowhere. */
export function addressOf(config: Pick<MailConfig, 'addresses' | 'domain'>, user: string): string | undefined {
  const listed = Object.prototype.hasOwnProperty.call(config.addresses, user) ? config.addresses[user] : undefined;
  if (listed !== undefined) return listed;
  if (isMailAddress(user)) return user;
  if (config.domain !== undefined && /^[A-Za-z0-9._+-]{1,64}$/.test(user)) return `${user}@${config.domain}`;
  return undefined;
}
