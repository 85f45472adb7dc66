/** What a task mail is about; one template each. */
export type MailKind = 'assigned' | 'overdue' | 'escalated';

export interface TaskMailFacts {
  taskId: string;
  title: string;
  /** The user it is assigned to, when one. */
  user: string | null;
  role: string | null;
  dueAt: string | null;
  /** The web UI's page of the task. */
  link: string;
}

export interface MailContent {
  subject: string;
  text: string;
  html: string;
}

const escapeHtml = (text: string): string =>
  text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/** Titles come from definitions: one line, bounded, in the subject. */
const oneLine = (text: string): string => text.replace(/[\r\n\t]+/g, ' ').slice(0, 150);

const due = (f: TaskMailFacts): string => (f.dueAt ? `Due: ${f.dueAt}` : 'No due date');
const holder = (f: TaskMailFacts): string => (f.user ? `Assigned to: ${f.user}` : `Open to the role: ${f.role ?? '-'}`);

const TEMPLATES: Record<MailKind, (f: TaskMailFacts) => { subject: string; lines: string[] }> = {
  assigned: (f) => ({
    subject: `Task assigned to you: ${oneLine(f.title)}`,
    lines: [`The task "${f.title}" is assigned to you.`, due(f), `Open it: ${f.link}`],
  }),
  overdue: (f) => ({
    subject: `Task overdue: ${oneLine(f.title)}`,
    lines: [`The task "${f.title}" is past its due time and still open.`, due(f), `Open it: ${f.link}`],
  }),
  escalated: (f) => ({
    subject: `Task escalated: ${oneLine(f.title)}`,
    lines: [`The task "${f.title}" is still open well past its due time.`, due(f), holder(f), `Open it: ${f.link}`],
  }),
};

/** The mail of one kind about one task: plain text, and the same as simple HTML. */
export function renderTaskMail(kind: MailKind, facts: TaskMailFacts): MailContent {
  const { subject, lines } = TEMPLATES[kind](facts);
  const html = lines
    .map((line) =>
      line.startsWith('Open it: ')
        ? `<p><a href="${escapeHtml(facts.link)}">Open the task</a></p>`
        : `<p>${escapeHtml(line)}</p>`,
    )
    .join('\n');
  return { subject, text: lines.join('\n\n') + '\n', html };
}
