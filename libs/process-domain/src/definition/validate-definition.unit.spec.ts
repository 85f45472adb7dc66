import { DefinitionInvalid, ValidationIssue } from '../errors';
import type { ProcessDefinition } from './definition';
import { INVOICE_APPROVAL_YAML } from './fixtures/invoice-approval';
import { parseDefinition, parseDefinitionText } from './parse-definition';
import { validateDefinition } from './validate-definition';

/** A small valid document to vary in each test. */
const minimal = (): Record<string, unknown> => ({
  key: 'order-check',
  name: 'Order check',
  relatedEntity: 'Order',
  start: 'check',
  activities: {
    check: { type: 'human', title: 'Check the order', assignee: { role: 'sales' }, next: 'done' },
    done: { type: 'end' },
  },
});

const issuesOf = (doc: unknown): ValidationIssue[] => {
  const result = validateDefinition(doc);
  if (result.ok) throw new Error('expected the definition to be refused');
  return result.issues;
};
const withActivities = (activities: Record<string, unknown>, start = 'a') => ({ ...minimal(), start, activities });
const thrownBy = (run: () => unknown): unknown => {
  try {
    run();
  } catch (error) {
    return error;
  }
  return undefined;
};

describe('parseDefinition, the design example', () => {
  it('given the README example YAML, when parsed, then it is accepted and normalised', () => {
    const definition = parseDefinition(INVOICE_APPROVAL_YAML);
    expect(definition.key).toBe('invoice-approval');
    expect(definition.executionOrder).toBe(10);
    expect(definition.triggers).toEqual([
      { on: 'created', when: 'entity.amount > 0' },
      { on: 'updated', fields: ['status'], when: 'entity.status = "Reopened"', delay: 'PT10M' },
    ]);
    expect(definition.activities.review).toEqual({
      type: 'human',
      title: 'Review the invoice',
      instructions: 'Check the supplier and the amount.',
      hint: 'Invoices above 10000 need a second look.',
      assignee: { role: 'accounting' },
      dueIn: 'P2D',
      results: ['Approve', 'Reject'],
      form: [{ name: 'comment', type: 'text', required: false }],
      next: 'route',
    });
    expect(definition.activities.escalate).toEqual({
      type: 'automatic',
      set: { escalated: 'true' },
      emit: { topic: 'invoice-commands', type: 'EscalateInvoice', payload: { invoice: 'entity.number' } },
      next: 'done',
    });
    expect(Object.keys(definition.activities)).toEqual([
      'review',
      'route',
      'awaitClearance',
      'pay',
      'escalate',
      'rejected',
      'done',
    ]);
  });

  it('given the same document as JSON, when parsed with a JSON content type, then the result is the same', () => {
    const fromYaml = parseDefinition(INVOICE_APPROVAL_YAML);
    expect(parseDefinition(JSON.stringify(fromYaml), 'application/json')).toEqual(fromYaml);
  });
});

describe('validateDefinition, defaults and normalisation', () => {
  it('given a document without optional keys, when validated, then every default is filled in', () => {
    const doc = minimal();
    (doc.activities as Record<string, Record<string, unknown>>).check.form = [{ name: 'note' }];
    (doc.activities as Record<string, Record<string, unknown>>).check.question = {
      text: 'Ok?',
      options: ['Yes', 'No'],
    };
    const result = validateDefinition(doc);
    expect(result).toEqual({
      ok: true,
      definition: {
        key: 'order-check',
        name: 'Order check',
        relatedEntity: 'Order',
        executionOrder: 100,
        enabled: true,
        triggers: [],
        start: 'check',
        activities: {
          check: {
            type: 'human',
            title: 'Check the order',
            assignee: { role: 'sales' },
            form: [{ name: 'note', type: 'text', required: false }],
            question: { text: 'Ok?', options: ['Yes', 'No'], multiple: false },
            next: 'done',
          },
          done: { type: 'end' },
        },
      } satisfies ProcessDefinition,
    });
  });

  it('given an accepted document, when the input is changed afterwards, then the definition does not change', () => {
    const doc = minimal();
    const result = validateDefinition(doc);
    (doc.activities as Record<string, Record<string, unknown>>).check.title = 'Tampered';
    expect(result.ok && (result.definition.activities.check as { title: string }).title).toBe('Check the order');
  });
});

describe('validateDefinition, top level', () => {
  it('given a document that is not an object, then one root issue', () => {
    expect(issuesOf([1, 2])).toEqual([{ path: '', message: 'must be an object' }]);
  });

  it('given wrong top-level values and an unknown key, then each is listed by path', () => {
    const doc = {
      ...minimal(),
      key: 'Invoice_Approval',
      name: '',
      relatedEntity: 'in voice',
      executionOrder: 1.5,
      enabled: 'yes',
      triggers: {},
      owner: 'me',
    };
    expect(issuesOf(doc).map((i) => i.path)).toEqual([
      'owner',
      'key',
      'name',
      'relatedEntity',
      'executionOrder',
      'enabled',
      'triggers',
    ]);
  });

  it('given missing required keys, then each is reported as required', () => {
    expect(issuesOf({})).toEqual([
      { path: 'key', message: 'is required' },
      { path: 'name', message: 'is required' },
      { path: 'relatedEntity', message: 'is required' },
      { path: 'start', message: 'is required' },
      { path: 'activities', message: 'is required' },
    ]);
  });

  it('given more than 500 activities, then the document is refused', () => {
    const activities: Record<string, unknown> = {};
    for (let i = 0; i < 501; i++) activities[`a${i}`] = { type: 'end' };
    expect(issuesOf(withActivities(activities, 'a0'))).toEqual([
      { path: 'activities', message: 'must have at most 500 activities (has 501)' },
    ]);
  });
});

describe('validateDefinition, triggers', () => {
  it('given invalid triggers, then each problem is named by trigger index', () => {
    const doc = {
      ...minimal(),
      triggers: [
        { on: 'created', fields: ['status'] },
        { on: 'updated', when: 'entity.amount >' },
        { on: 'changed', delay: '10 minutes' },
        { on: 'updated', fields: [], if: 'x' },
      ],
    };
    expect(issuesOf(doc).map((i) => `${i.path}: ${i.message}`)).toEqual([
      'triggers[0].fields: is only allowed with on: updated',
      expect.stringMatching(/^triggers\[1\]\.when: invalid FEEL: incomplete/),
      'triggers[2].on: must be one of created, updated, deleted, schedule',
      "triggers[2].delay: '10 minutes' is not an ISO-8601 duration such as P2D or PT10M",
      'triggers[3].if: unknown key',
      'triggers[3].fields: must be a non-empty list',
    ]);
  });
});

describe('validateDefinition, schedule triggers', () => {
  const scheduled = (...triggers: unknown[]) => ({ ...minimal(), triggers });
  const problems = (doc: unknown) => issuesOf(doc).map((i) => ({ path: i.path, code: i.code }));

  it('given a weekly cron in a time zone, then it is kept; without a time zone, UTC', () => {
    const accepted = validateDefinition(
      scheduled(
        { on: 'schedule', cron: '0 7 * * MON', timeZone: 'Europe/Amsterdam' },
        { on: 'created', when: 'entity.amount > 0' },
      ),
    );
    expect(accepted.ok && accepted.definition.triggers).toEqual([
      { on: 'schedule', cron: '0 7 * * MON', timeZone: 'Europe/Amsterdam' },
      { on: 'created', when: 'entity.amount > 0' },
    ]);
    const utc = validateDefinition(scheduled({ on: 'schedule', cron: '*/15 * * * *' }));
    expect(utc.ok && utc.definition.triggers).toEqual([{ on: 'schedule', cron: '*/15 * * * *', timeZone: 'UTC' }]);
  });

  it('given a bad cron, an unknown time zone, or keys of entity triggers, then each is named by path and code', () => {
    expect(
      problems(
        scheduled(
          { on: 'schedule', cron: '0 7 * *' },
          { on: 'schedule', cron: '0 61 * * *' },
          { on: 'schedule', cron: '0 7 * * MON', timeZone: 'Mars/Olympus_Mons' },
          { on: 'schedule', cron: '0 7 * * MON', timeZone: '+01:00' },
          { on: 'schedule', cron: '0 0 30 2 *' },
          { on: 'schedule', cron: '0 7 * * MON', when: 'true', delay: 'PT1M', fields: ['a'], every: 'week' },
          { on: 'schedule' },
        ),
      ),
    ).toEqual([
      { path: 'triggers[0].cron', code: 'DEFINITION.SCHEDULE_CRON_INVALID' },
      { path: 'triggers[1].on', code: 'DEFINITION.SCHEDULE_TWICE' },
      { path: 'triggers[1].cron', code: 'DEFINITION.SCHEDULE_CRON_INVALID' },
      { path: 'triggers[2].on', code: 'DEFINITION.SCHEDULE_TWICE' },
      { path: 'triggers[2].timeZone', code: 'DEFINITION.SCHEDULE_TIME_ZONE_UNKNOWN' },
      { path: 'triggers[3].on', code: 'DEFINITION.SCHEDULE_TWICE' },
      { path: 'triggers[3].timeZone', code: 'DEFINITION.SCHEDULE_TIME_ZONE_UNKNOWN' },
      { path: 'triggers[4].on', code: 'DEFINITION.SCHEDULE_TWICE' },
      { path: 'triggers[4].cron', code: 'DEFINITION.SCHEDULE_CRON_NEVER_FIRES' },
      { path: 'triggers[5].on', code: 'DEFINITION.SCHEDULE_TWICE' },
      { path: 'triggers[5].when', code: 'DEFINITION.SCHEDULE_KEY_NOT_ALLOWED' },
      { path: 'triggers[5].delay', code: 'DEFINITION.SCHEDULE_KEY_NOT_ALLOWED' },
      { path: 'triggers[5].fields', code: 'DEFINITION.SCHEDULE_KEY_NOT_ALLOWED' },
      { path: 'triggers[5].every', code: undefined },
      { path: 'triggers[6].on', code: 'DEFINITION.SCHEDULE_TWICE' },
      { path: 'triggers[6].cron', code: undefined },
    ]);
  });

  it('given an unknown time zone and a bad cron, then both are named', () => {
    expect(problems(scheduled({ on: 'schedule', cron: '0 7 * * FUNDAY', timeZone: 'Europe/Atlantis' }))).toEqual([
      { path: 'triggers[0].timeZone', code: 'DEFINITION.SCHEDULE_TIME_ZONE_UNKNOWN' },
      { path: 'triggers[0].cron', code: 'DEFINITION.SCHEDULE_CRON_INVALID' },
    ]);
  });

  it('given a hostile cron (huge, or a long list of steps), then it is refused quickly with the cron code', () => {
    const huge = '*/1,'.repeat(250_000) + '* * * * *';
    const listy = Array.from({ length: 30 }, (_, i) => `${i}-59/1`).join(',') + ' * * * *';
    const control = '0 7 * * MON\u0000';
    for (const cron of [huge, listy, control, '0 7 * * MON '.repeat(20)]) {
      expect(problems(scheduled({ on: 'schedule', cron }))).toEqual([
        { path: 'triggers[0].cron', code: 'DEFINITION.SCHEDULE_CRON_INVALID' },
      ]);
    }
  });
});

describe('validateDefinition, durations are bounded (README, Limits)', () => {
  const timed = (dueIn: string, delay: string, timeout: string) => ({
    ...withActivities({
      a: { type: 'human', title: 'A', assignee: { role: 'r' }, dueIn, next: 'w' },
      w: { type: 'wait', timeout, next: 'b' },
      b: { type: 'end' },
    }),
    triggers: [{ on: 'created', delay }],
  });

  it('given a dueIn, a delay and a timeout longer than P100Y, then each is refused with its path', () => {
    expect(issuesOf(timed('P99999999Y', 'P36526D', 'PT876601H'))).toEqual([
      {
        path: 'triggers[0].delay',
        message: "'P36526D' is longer than P100Y (100 years, the longest duration allowed)",
      },
      {
        path: 'activities.a.dueIn',
        message: "'P99999999Y' is longer than P100Y (100 years, the longest duration allowed)",
      },
      {
        path: 'activities.w.timeout',
        message: "'PT876601H' is longer than P100Y (100 years, the longest duration allowed)",
      },
    ]);
  });

  it.each([
    ['P100Y', 'P1200M', 'P36525D'],
    ['PT876600H', 'P5217W', 'P99Y11M30D'],
  ])('given %s, %s and %s (at most 100 years), then they are accepted', (dueIn, delay, timeout) => {
    expect(validateDefinition(timed(dueIn, delay, timeout)).ok).toBe(true);
  });
});

describe('validateDefinition, activities', () => {
  it('given reserved and malformed activity ids, then each is refused', () => {
    const doc = withActivities({
      a: { type: 'end' },
      entity: { type: 'end' },
      record: { type: 'end' },
      vars: { type: 'end' },
      constructor: { type: 'end' },
      '1st': { type: 'end' },
    });
    expect(issuesOf(doc).map((i) => i.path)).toEqual([
      'activities.entity',
      'activities.record',
      'activities.vars',
      'activities.constructor',
      'activities.1st',
    ]);
  });

  it('given an unknown activity type and an unknown key on an end, then both are reported', () => {
    const doc = withActivities({ a: { type: 'script', next: 'b' }, b: { type: 'end', next: 'a' } });
    expect(issuesOf(doc).map((i) => `${i.path}: ${i.message}`)).toEqual([
      'activities.a.type: must be one of human, automatic, wait, decision, service, end, parallel, inclusive, join, subprocess',
      'activities.b.next: unknown key',
    ]);
  });

  it('given a service activity, then it is normalised with 3 retries by default', () => {
    const result = validateDefinition(
      withActivities({
        a: {
          next: 'b',
          errors: { CREDIT_REJECTED: 'c' },
          inputs: { customer: 'entity.customerId' },
          jobType: 'credit-check',
          type: 'service',
        },
        b: { type: 'end' },
        c: { type: 'end' },
      }),
    );
    expect(result.ok && result.definition.activities.a).toEqual({
      type: 'service',
      jobType: 'credit-check',
      retries: 3,
      inputs: { customer: 'entity.customerId' },
      errors: { CREDIT_REJECTED: 'c' },
      next: 'b',
    });
  });

  it('given a service activity with every kind of mistake, then every issue is listed by path', () => {
    const doc = withActivities({
      a: {
        type: 'service',
        jobType: 'credit check',
        retries: 0,
        retryBackoff: 'P200Y',
        inputs: { 'my input': 'entity.id', ok: 'entity.(' },
        errors: { 'NOT A CODE': 'b', REJECTED: 'nowhere' },
        timeout: 'PT1M',
      },
      b: { type: 'end' },
    });
    expect(issuesOf(doc).map((i) => i.path)).toEqual([
      'activities.a.timeout',
      'activities.a.jobType',
      'activities.a.retries',
      'activities.a.retryBackoff',
      'activities.a.inputs.my input',
      'activities.a.inputs.ok',
      'activities.a.errors.NOT A CODE',
      'activities.a.next',
      'activities.a.errors.REJECTED',
    ]);
  });

  it('given a service activity whose only way on is an error path, then the path counts for reachability', () => {
    const result = validateDefinition(
      withActivities({
        a: { type: 'service', jobType: 'x', errors: { NO: 'b' }, next: 'c' },
        b: { type: 'end' },
        c: { type: 'end' },
      }),
    );
    expect(result.ok).toBe(true);
  });

  it('given a human activity with every kind of mistake, then every issue is listed', () => {
    const doc = withActivities({
      a: {
        type: 'human',
        assignee: { user: 'alice', role: 'sales' },
        dueIn: '2 days',
        results: ['Approve', 'Approve'],
        form: [{ name: 'comment' }, { name: 'comment', type: 'file', required: 'no' }, { name: 'my field' }],
        question: { text: 'How?', options: [] },
        next: 'b',
      },
      b: { type: 'end' },
    });
    expect(issuesOf(doc).map((i) => `${i.path}: ${i.message}`)).toEqual([
      'activities.a.title: is required',
      'activities.a.assignee: must have exactly one of user, role, userFrom',
      "activities.a.dueIn: '2 days' is not an ISO-8601 duration such as P2D or PT10M",
      "activities.a.results[1]: 'Approve' is listed twice",
      "activities.a.form[1].name: the field 'comment' is listed twice",
      'activities.a.form[1].type: must be one of text, number, boolean, date',
      'activities.a.form[1].required: must be true or false',
      expect.stringMatching(/^activities\.a\.form\[2\]\.name: must match/),
      'activities.a.question.options: must be a non-empty list',
    ]);
  });

  it('given a task assigned to the engine or to an id hiding a bidi override, then both are refused', () => {
    const doc = withActivities({
      a: { type: 'human', title: 'A', assignee: { user: 'system' }, next: 'b' },
      b: { type: 'human', title: 'B', assignee: { user: 'bob\u202e' }, next: 'c' },
      c: { type: 'end' },
    });
    expect(issuesOf(doc).map((i) => `${i.path}: ${i.message}`)).toEqual([
      'activities.a.assignee.user: "system" is reserved for the engine',
      'activities.b.assignee.user: a user id must not contain control, format or bidi-override characters',
    ]);
  });

  it('given an assignee userFrom with invalid FEEL or a missing assignee, then they are refused', () => {
    const doc = withActivities({
      a: { type: 'human', title: 'A', assignee: { userFrom: 'entity.' }, next: 'b' },
      b: { type: 'human', title: 'B', next: 'c' },
      c: { type: 'end' },
    });
    expect(issuesOf(doc).map((i) => i.path)).toEqual(['activities.a.assignee.userFrom', 'activities.b.assignee']);
  });

  it('given next per result, when a result is unmapped and an extra key is given, then both are reported', () => {
    const doc = withActivities({
      a: {
        type: 'human',
        title: 'A',
        assignee: { role: 'r' },
        results: ['Approve', 'Reject'],
        next: { Approve: 'b', Maybe: 'b' },
      },
      b: { type: 'end' },
    });
    expect(issuesOf(doc)).toEqual([
      { path: 'activities.a.next.Maybe', message: "'Maybe' is not one of the results" },
      { path: 'activities.a.next', message: "the result 'Reject' has no next" },
    ]);
  });

  it('given next per result without results, then results are required', () => {
    const doc = withActivities({
      a: { type: 'human', title: 'A', assignee: { role: 'r' }, next: { Approve: 'b' } },
      b: { type: 'end' },
    });
    expect(issuesOf(doc)).toEqual([{ path: 'activities.a.next', message: 'a next per result needs results' }]);
  });

  it('given next per result that maps every result, then it is kept as a map', () => {
    const doc = withActivities({
      a: { type: 'human', title: 'A', assignee: { role: 'r' }, results: ['Yes', 'No'], next: { Yes: 'b', No: 'c' } },
      b: { type: 'end' },
      c: { type: 'end' },
    });
    const result = validateDefinition(doc);
    expect(result.ok && result.definition.activities.a).toMatchObject({ next: { Yes: 'b', No: 'c' } });
  });

  it('given automatic activities with mistakes, then each is reported', () => {
    const doc = withActivities({
      a: { type: 'automatic', next: 'b' },
      b: { type: 'automatic', set: { 'bad name': '1', ok: '1 +' }, next: 'c' },
      c: { type: 'automatic', emit: { topic: 'bad topic!', payload: { x: 'entity.' } }, next: 'd' },
      d: { type: 'end' },
    });
    expect(issuesOf(doc).map((i) => i.path)).toEqual([
      'activities.a',
      'activities.b.set.bad name',
      'activities.b.set.ok',
      'activities.c.emit.topic',
      'activities.c.emit.type',
      'activities.c.emit.payload.x',
    ]);
  });

  it('given waits without until and timeout, or onTimeout without timeout, then they are refused', () => {
    const doc = withActivities({
      a: { type: 'wait', next: 'b' },
      b: { type: 'wait', until: 'entity.ok = true', onTimeout: 'c', next: 'c' },
      c: { type: 'wait', timeout: 'P1D', until: 'entity.ok = true', next: 'd' },
      d: { type: 'end' },
    });
    expect(issuesOf(doc)).toEqual([
      { path: 'activities.a', message: 'a wait needs until, timeout or both' },
      { path: 'activities.b.onTimeout', message: 'is only allowed with a timeout' },
    ]);
  });

  it('given a decision without branches or otherwise, then both are required', () => {
    const doc = withActivities({
      a: { type: 'decision', branches: [] },
      b: { type: 'decision', branches: [{ when: 'x > 1' }, { next: 'c' }], otherwise: 'c' },
      c: { type: 'end' },
    });
    expect(issuesOf(doc).map((i) => i.path)).toEqual([
      'activities.a.branches',
      'activities.a.otherwise',
      'activities.b.branches[0].next',
      'activities.b.branches[1].when',
    ]);
  });
});

describe('validateDefinition, graph', () => {
  it('given references to missing activities, then each dangling reference is named', () => {
    const doc = {
      ...withActivities({
        a: { type: 'wait', timeout: 'P1D', onTimeout: 'late', next: 'b' },
        b: { type: 'decision', branches: [{ when: 'true', next: 'foo' }], otherwise: 'end' },
        end: { type: 'end' },
      }),
      start: 'begin',
    };
    expect(issuesOf(doc)).toEqual([
      { path: 'start', message: "dangling start: 'begin' is not an activity" },
      { path: 'activities.a.onTimeout', message: "dangling next: 'late' is not an activity" },
      { path: 'activities.b.branches[0].next', message: "dangling next: 'foo' is not an activity" },
    ]);
  });

  it('given an activity no path reaches, then it is unreachable', () => {
    const doc = withActivities({
      a: { type: 'automatic', set: { x: '1' }, next: 'z' },
      orphan: { type: 'automatic', set: { y: '2' }, next: 'z' },
      z: { type: 'end' },
    });
    expect(issuesOf(doc)).toEqual([{ path: 'activities.orphan', message: "unreachable: no path from start 'a'" }]);
  });

  it('given a loop with no way out, then its activities have no path to an end', () => {
    const doc = withActivities({
      a: { type: 'decision', branches: [{ when: 'vars.x = 1', next: 'z' }], otherwise: 'b' },
      b: { type: 'automatic', set: { x: '2' }, next: 'c' },
      c: { type: 'automatic', set: { x: '3' }, next: 'b' },
      z: { type: 'end' },
    });
    expect(issuesOf(doc)).toEqual([
      { path: 'activities.b', message: 'no path to an end' },
      { path: 'activities.c', message: 'no path to an end' },
    ]);
  });

  it('given a loop that can leave, then it is accepted', () => {
    const doc = withActivities({
      a: { type: 'human', title: 'Fix', assignee: { role: 'r' }, next: 'b' },
      b: { type: 'decision', branches: [{ when: 'entity.ok = true', next: 'z' }], otherwise: 'a' },
      z: { type: 'end' },
    });
    expect(validateDefinition(doc).ok).toBe(true);
  });

  it('given no end activity, then the document is refused', () => {
    const doc = withActivities({ a: { type: 'automatic', set: { x: '1' }, next: 'a' } });
    expect(issuesOf(doc)).toEqual([{ path: 'activities', message: 'needs at least one end activity' }]);
  });
});

describe('parseDefinitionText', () => {
  it('given a duplicate activity id in YAML, then the issue names its path and line', () => {
    const text = 'key: k\nactivities:\n  review: { type: end }\n  review: { type: end }\n';
    const error = thrownBy(() => parseDefinitionText(text));
    expect(error).toBeInstanceOf(DefinitionInvalid);
    expect((error as DefinitionInvalid).issues).toEqual([
      { path: 'activities.review', message: "duplicate key 'review' at 4:3" },
    ]);
  });

  it('given a duplicate key in JSON, then it is caught as well', () => {
    const error = thrownBy(() => parseDefinitionText('{"key": "a", "key": "b"}', 'application/json'));
    expect((error as DefinitionInvalid).issues).toEqual([{ path: 'key', message: "duplicate key 'key' at 1:14" }]);
  });

  it('given a YAML syntax error, then the issue has path "" and line:col', () => {
    const error = thrownBy(() => parseDefinitionText('key: [a, b\nname: x\n'));
    expect((error as DefinitionInvalid).code).toBe('DEFINITION.INVALID');
    expect((error as DefinitionInvalid).issues[0]).toEqual({
      path: '',
      message: expect.stringMatching(/^YAML syntax error at \d+:\d+: /),
    });
  });

  it('given invalid JSON, then the issue says JSON', () => {
    const error = thrownBy(() => parseDefinitionText('{"key": }', 'application/json'));
    expect((error as DefinitionInvalid).issues[0].message).toMatch(/^JSON syntax error at 1:\d+/);
  });

  it('given a text over 1 MiB, then it is refused before parsing', () => {
    const error = thrownBy(() => parseDefinitionText(`name: x\n# ${'x'.repeat(1024 * 1024)}`));
    expect((error as DefinitionInvalid).issues[0].message).toMatch(/larger than 1048576 bytes/);
  });

  it('given a document of exploding aliases, then it is refused, not expanded', () => {
    const lines = ['a0: &a0 [x, x, x, x, x, x, x, x, x, x]'];
    for (let i = 1; i < 12; i++)
      lines.push(
        `a${i}: &a${i} [${Array(10)
          .fill(`*a${i - 1}`)
          .join(', ')}]`,
      );
    const error = thrownBy(() => parseDefinitionText(lines.join('\n')));
    expect(error).toBeInstanceOf(DefinitionInvalid);
  });

  it('given a __proto__ key, then it stays an own key and pollutes nothing', () => {
    const doc = parseDefinitionText('__proto__: { polluted: true }\n') as Record<string, unknown>;
    expect(Object.keys(doc)).toEqual(['__proto__']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(issuesOf(doc)[0]).toEqual({ path: '__proto__', message: 'unknown key' });
  });

  it('given an invalid definition, when parseDefinition is used, then DefinitionInvalid carries the issues', () => {
    const error = thrownBy(() =>
      parseDefinition('key: k\nname: n\nrelatedEntity: E\nstart: a\nactivities: {a: {type: end, x: 1}}'),
    );
    expect((error as DefinitionInvalid).issues).toEqual([{ path: 'activities.a.x', message: 'unknown key' }]);
  });
});
