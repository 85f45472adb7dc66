import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parseDefinition, validateDefinition, type ProcessDefinition } from '@lifeline/process-domain';
import { INVOICE_APPROVAL_YAML } from '@lifeline/process-domain/testing';
import { archivedWhenDeleted, conditionalOrder, notifyAndReview, purchaseOrder } from '@lifeline/read-models/testing';

export interface NamedDefinition {
  name: string;
  definition: ProcessDefinition;
}

const ROOT = join(__dirname, '..', '..', '..', '..');

/**
 * Every example and test definition: the README's definition blocks, the embedded demo, the domain's fixtures,
 * the read models' parallel instances, the valid YAML definitions written inline in any spec of libs, services and
 * test (read from their source, so a new one is covered at once), and a few written here for what no
 * other covers (every construct and its options at once). The BPMN export and round-trip specs run over all of them.
 */
export function allDefinitions(): NamedDefinition[] {
  const all: NamedDefinition[] = [];
  const add = (name: string, definition: ProcessDefinition) => all.push({ name, definition });

  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  for (const [index, block] of yamlBlocks(readme).entries()) {
    if (/^key: /m.test(block) && /^activities:/m.test(block)) add(`README block ${index + 1}`, parseDefinition(block));
  }
  const demo = join(ROOT, 'services/embedded/demo');
  for (const file of readdirSync(demo)
    .filter((f) => f.endsWith('.yaml'))
    .sort()) {
    add(`demo ${file}`, parseDefinition(readFileSync(join(demo, file), 'utf8')));
  }
  add('fixture invoice-approval', parseDefinition(INVOICE_APPROVAL_YAML));
  add('parallel-instances purchaseOrder', purchaseOrder);
  add('parallel-instances notifyAndReview', notifyAndReview);
  add('parallel-instances conditionalOrder', conditionalOrder);
  add('parallel-instances archivedWhenDeleted', archivedWhenDeleted);
  for (const dir of ['libs', 'services', 'test']) {
    for (const file of specFiles(join(ROOT, dir))) {
      for (const { line, text } of inlineYamlDefinitions(readFileSync(file, 'utf8'))) {
        const result = validateDefinition(safeParse(text));
        // Specs also hold definitions that must be refused: only the valid ones are examples.
        if (result.ok) add(`${relative(ROOT, file)}:${line}`, result.definition);
      }
    }
  }
  for (const [name, document] of Object.entries(WRITTEN_HERE)) add(name, parseDefinition(JSON.stringify(document)));
  return all;
}

function yamlBlocks(markdown: string): string[] {
  return [...markdown.matchAll(/```yaml\n([\s\S]*?)```/g)].map((match) => match[1]);
}

function specFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && /\.spec\.ts$/.test(entry.name))
    .map((entry) => join(entry.parentPath, entry.name))
    .sort();
}

/** Template literals that are a whole YAML definition (start with `key:`), without interpolation. */
function inlineYamlDefinitions(source: string): { line: number; text: string }[] {
  const found: { line: number; text: string }[] = [];
  for (const match of source.matchAll(/`(\n?key: [^`]*)`/g)) {
    const text = match[1];
    if (text.includes('${') || !/^activities:/m.test(text)) continue;
    found.push({ line: source.slice(0, match.index).split('\n').length, text });
  }
  return found;
}

function safeParse(text: string): unknown {
  try {
    return parseDefinition(text);
  } catch {
    return undefined;
  }
}

/** Definitions for what the examples leave out: each option of each construct, and texts that need escaping. */
const WRITTEN_HERE: Record<string, Record<string, unknown>> = {
  'jobs.unit.spec credit check (service with inputs, errors, backoff)': {
    key: 'credit',
    name: 'Credit check',
    relatedEntity: 'Customer',
    start: 'check',
    activities: {
      check: {
        type: 'service',
        jobType: 'credit-check',
        retries: 2,
        retryBackoff: 'PT30S',
        inputs: { customer: 'record.id', limit: 'entity.limit * 2' },
        errors: { CREDIT_REJECTED: 'rejected' },
        next: 'done',
      },
      rejected: { type: 'end' },
      done: { type: 'end' },
    },
  },
  'schedule.int.spec weekly audit (schedule trigger with a time zone)': {
    key: 'weekly-audit',
    name: 'Weekly audit',
    relatedEntity: 'Audit',
    triggers: [{ on: 'schedule', cron: '0 7 * * MON', timeZone: 'Europe/Paris' }],
    start: 'check',
    activities: {
      check: { type: 'human', title: 'Audit the books', assignee: { role: 'auditors' }, next: 'done' },
      done: { type: 'end' },
    },
  },
  'manual-start.int.spec invoice query (startableBy, no trigger)': {
    key: 'invoice-query',
    name: 'Invoice query',
    relatedEntity: 'Invoice',
    startableBy: ['sales'],
    start: 'answer',
    activities: {
      answer: { type: 'human', title: 'Answer the query', assignee: { role: 'sales' }, next: 'done' },
      done: { type: 'end' },
    },
  },
  'everything at once': {
    key: 'everything',
    name: 'Everything & more <at once>',
    relatedEntity: 'Case',
    executionOrder: 7,
    enabled: false,
    startableBy: ['agents', 'team:leads'],
    onRecordDeleted: { next: 'cleanUp' },
    conditionalStarts: [{ when: 'entity.priority = "high"', next: 'alert' }],
    triggers: [
      { on: 'created' },
      { on: 'updated', fields: ['status', 'owner'], when: 'entity.status = "Reopened"', delay: 'PT10M' },
      { on: 'deleted', when: 'entity.archived != true' },
    ],
    start: 'intake',
    activities: {
      intake: {
        type: 'human',
        title: 'Take the case "in"',
        instructions: 'Read it.\nThen decide & say why <briefly>.',
        hint: 'Quotes " and backslashes \\ are fine',
        assignee: { userFrom: 'entity.ownerId' },
        dueIn: 'P2DT4H',
        results: ['Go on', 'Say "no"', 'back\\slash', 'two\nlines'],
        form: [
          { name: 'summary', type: 'text', required: true, label: 'Summary' },
          { name: 'amount', type: 'number', required: false },
          { name: 'urgent', type: 'boolean', required: false, label: 'Urgent?' },
          { name: 'answer', type: 'date', required: true, label: 'Answer by' },
        ],
        question: { text: 'Which channels?', options: ['Mail', 'Phone', 'Chat'], multiple: true },
        boundary: [
          { after: 'P1D', next: 'escalate' },
          { after: 'PT4H', every: 'PT1H', remind: true },
          { after: 'PT8H', reassign: { role: 'leads' } },
          { after: 'PT12H', every: 'P1D', reassign: { user: 'boss' } },
          { when: 'entity.status = "Closed"', next: 'closed' },
        ],
        next: { 'Go on': 'route', 'Say "no"': 'closed', 'back\\slash': 'intake', 'two\nlines': 'closed' },
      },
      escalate: {
        type: 'automatic',
        set: { escalated: 'true', level: 'if entity.amount > 1000 then "high" else "low"' },
        next: 'route',
      },
      route: {
        type: 'decision',
        branches: [
          { when: 'entity.amount > 1000', next: 'checks' },
          { when: 'entity.amount > 100 and entity.kind = "fast"', next: 'pick' },
        ],
        otherwise: 'fork',
      },
      checks: { type: 'parallel', branches: ['credit', 'watch', 'child'] },
      credit: {
        type: 'service',
        jobType: 'credit:check.v2',
        retries: 5,
        inputs: { who: 'record.id' },
        errors: { 'E.REJECTED': 'checksDone', 'E:LIMIT': 'closed' },
        next: 'checksDone',
      },
      watch: {
        type: 'wait',
        until: 'entity.paid = true',
        timeout: 'P30D',
        onTimeout: 'remindAll',
        boundary: [
          { after: 'P7D', next: 'closed' },
          { when: 'entity.status = "Cancelled"', next: 'closed' },
        ],
        next: 'checksDone',
      },
      remindAll: {
        type: 'automatic',
        emit: { topic: 'case-commands', type: 'RemindAll', payload: { case: 'record.id', note: '"late"' } },
        next: 'checksDone',
      },
      child: {
        type: 'subprocess',
        process: 'credit',
        version: 2,
        record: { type: 'Customer', id: 'entity.customerId' },
        inputs: { limit: 'entity.amount' },
        outputs: { credit: 'child.result' },
        next: 'checksDone',
      },
      checksDone: { type: 'join', next: 'notify' },
      notify: {
        type: 'automatic',
        set: { notified: 'true' },
        emit: { topic: 'case-events', type: 'Checked' },
        next: 'closed',
      },
      pick: {
        type: 'inclusive',
        branches: [
          { when: 'entity.mail = true', next: 'mail' },
          { when: 'entity.phone = true', next: 'phone' },
        ],
        otherwise: 'mail',
      },
      mail: { type: 'wait', timeout: 'PT1H', next: 'picked' },
      phone: { type: 'wait', until: 'entity.called = true', next: 'picked' },
      picked: { type: 'join', next: 'closed' },
      fork: {
        type: 'human',
        title: 'Split',
        assignee: { user: 'alice' },
        completeWhen: 'entity.ready = true',
        next: ['left', 'right'],
      },
      left: { type: 'automatic', set: { left: 'true' }, next: 'met' },
      right: { type: 'wait', until: 'entity.right = true', boundary: [{ after: 'P1D', next: 'met' }], next: 'met' },
      met: { type: 'join', next: 'stop' },
      stop: { type: 'end', terminate: true },
      alert: { type: 'human', title: 'Urgent', assignee: { role: 'leads' }, next: 'closed' },
      cleanUp: { type: 'automatic', set: { cleaned: 'true' }, next: 'closed' },
      closed: { type: 'end' },
    },
  },
  'a process id the key cannot be (an activity has the key as its id, the key starts with a digit)': {
    key: '1st',
    name: 'First',
    relatedEntity: 'Case',
    triggers: [{ on: 'schedule', cron: '0 0 8 * * *' }],
    start: 'start',
    activities: {
      start: { type: 'automatic', set: { x: '1' }, next: 'end' },
      end: { type: 'end' },
    },
  },
  'a join whose next forks again (a gateway that joins, then forks)': {
    key: 'two-rounds',
    name: 'Two rounds',
    relatedEntity: 'Case',
    start: 'first',
    activities: {
      first: { type: 'parallel', branches: ['a', 'b'] },
      a: { type: 'human', title: 'A', assignee: { role: 'r' }, next: 'met' },
      b: { type: 'human', title: 'B', assignee: { role: 'r' }, next: 'met' },
      met: { type: 'join', next: ['c', 'd'] },
      c: { type: 'human', title: 'C', assignee: { role: 'r' }, next: 'again' },
      d: { type: 'human', title: 'D', assignee: { role: 'r' }, next: 'again' },
      again: { type: 'join', next: 'done' },
      done: { type: 'end' },
    },
  },
  'the key is an activity id': {
    key: 'review',
    name: 'Review',
    relatedEntity: 'Case',
    onRecordDeleted: 'terminate',
    start: 'review',
    activities: {
      review: { type: 'human', title: 'Review', assignee: { role: 'r' }, next: 'done' },
      done: { type: 'end' },
    },
  },
};
