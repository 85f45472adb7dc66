import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The mails Lifeline sends, one template each. */
export const MAIL_KINDS = ['task-assigned', 'task-overdue', 'task-escalated', 'task-reminder'] as const;
export type MailKind = (typeof MAIL_KINDS)[number];

/** What a template may use as `{{name}}`. */
export const TEMPLATE_FIELDS = [
  'user',
  'title',
  'instructions',
  'link',
  'dueAt',
  'record',
  'by',
  'instanceId',
] as const;
export type TemplateField = (typeof TEMPLATE_FIELDS)[number];
export type TemplateValues = Record<TemplateField, string>;

export interface MailTemplate {
  subject: string;
  text: string;
  html: string;
}
export type MailTemplates = Record<MailKind, MailTemplate>;

const DEFAULTS: MailTemplates = {
  'task-assigned': {
    subject: 'Task for you: {{title}}',
    text: [
      'Hello {{user}},',
      '',
      '{{by}} assigned a task to you: {{title}}',
      '{{instructions}}',
      'Record: {{record}}',
      'Due: {{dueAt}}',
      '',
      'Open it: {{link}}',
    ].join('\n'),
    html: [
      '<p>Hello {{user}},</p>',
      '<p>{{by}} assigned a task to you: <strong>{{title}}</strong></p>',
      '<p>{{instructions}}</p>',
      '<p>Record: {{record}}<br>Due: {{dueAt}}</p>',
      '<p><a href="{{link}}">Open the task</a></p>',
    ].join('\n'),
  },
  'task-escalated': {
    subject: 'Escalated: {{title}}',
    text: [
      'Hello {{user}},',
      '',
      'A task is still open well past its due time ({{dueAt}}) and has been escalated: {{title}}',
      'Record: {{record}}',
      'With: {{by}}',
      '',
      'Open it: {{link}}',
    ].join('\n'),
    html: [
      '<p>Hello {{user}},</p>',
      '<p>A task is still open well past its due time ({{dueAt}}) and has been escalated: <strong>{{title}}</strong></p>',
      '<p>Record: {{record}}<br>With: {{by}}</p>',
      '<p><a href="{{link}}">Open the task</a></p>',
    ].join('\n'),
  },
  'task-reminder': {
    subject: 'Reminder: {{title}}',
    text: [
      'Hello {{user}},',
      '',
      'A reminder: your task is still open: {{title}}',
      'Record: {{record}}',
      'Due: {{dueAt}}',
      '',
      'Open it: {{link}}',
    ].join('\n'),
    html: [
      '<p>Hello {{user}},</p>',
      '<p>A reminder: your task is still open: <strong>{{title}}</strong></p>',
      '<p>Record: {{record}}<br>Due: {{dueAt}}</p>',
      '<p><a href="{{link}}">Open the task</a></p>',
    ].join('\n'),
  },
  'task-overdue': {
    subject: 'Overdue: {{title}}',
    text: [
      'Hello {{user}},',
      '',
      'Your task is overdue since {{dueAt}}: {{title}}',
      'Record: {{record}}',
      '',
      'Open it: {{link}}',
    ].join('\n'),
    html: [
      '<p>Hello {{user}},</p>',
      '<p>Your task is overdue since {{dueAt}}: <strong>{{title}}</strong></p>',
      '<p>Record: {{record}}</p>',
      '<p><a href="{{link}}">Open the task</a></p>',
    ].join('\n'),
  },
};

const PLACEHOLDER = /\{\{\s*([A-Za-z]+)\s*\}\}/g;
const PARTS = [
  ['subject', 'subject.txt'],
  ['text', 'txt'],
  ['html', 'html'],
] as const;

/**
 * The default templates, each part replaced by `<dir>/<kind>.subject.txt`, `<kind>.txt` or
 * `<kind>.html` when that file exists. A template naming a field that does not exist is refused at
 * start, not found out when the first mail goes.
 */
export function loadTemplates(dir: string | undefined, fail: (message: string) => Error): MailTemplates {
  if (dir !== undefined && !existsSync(dir)) throw fail(`LIFELINE_MAIL_TEMPLATES: no directory at ${dir}`);
  const out = {} as MailTemplates;
  for (const kind of MAIL_KINDS) {
    const template = { ...DEFAULTS[kind] };
    for (const [part, suffix] of PARTS) {
      const file = dir === undefined ? undefined : join(dir, `${kind}.${suffix}`);
      if (file === undefined || !existsSync(file)) continue;
      const text = readFileSync(file, 'utf8');
      for (const match of text.matchAll(PLACEHOLDER)) {
        if (!(TEMPLATE_FIELDS as readonly string[]).includes(match[1]!)) {
          throw fail(
            `LIFELINE_MAIL_TEMPLATES: ${file} uses {{${match[1]}}}; the fields are ${TEMPLATE_FIELDS.join(', ')}`,
          );
        }
      }
      template[part] = part === 'subject' ? text.trim() : text;
    }
    out[kind] = template;
  }
  return out;
}

const escapeHtml = (text: string): string =>
  text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/** A subject is one header line: line breaks and other control characters become spaces. */
const oneLine = (text: string): string => text.replace(/[\u0000-\u001f\u007f\u2028\u2029]+/g, ' ').trim();

/** The three parts with the values filled in: HTML-escaped in the HTML part, on one line in the subject. */
export function render(template: MailTemplate, values: TemplateValues): MailTemplate {
  const fill = (text: string, escape: (value: string) => string): string =>
    text.replace(PLACEHOLDER, (_, name: string) => escape(values[name as TemplateField] ?? ''));
  return {
    subject: oneLine(fill(template.subject, (v) => v)).slice(0, 250),
    text: fill(template.text, (v) => v),
    html: fill(template.html, escapeHtml),
  };
}
