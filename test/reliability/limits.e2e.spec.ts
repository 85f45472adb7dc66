import { startLifeline, type RunningLifeline } from '@lifeline/testing';

/**
 * One test per documented limit (README "Limits"): just under the limit is accepted, just past it is
 * refused with its code. Sizes are exact, so moving a limit by one byte fails a test.
 */

const MiB = 1024 * 1024;
const KiB64 = 64 * 1024;

let serial = 0;
const envelope = (data: Record<string, unknown> = {}, entityType = 'Crate') => ({
  id: `limit-${++serial}`,
  entityType,
  entityId: `C-${serial}`,
  kind: 'created',
  occurredAt: '2026-11-21T10:00:00Z',
  data,
});

/** JSON text padded with trailing whitespace (still valid JSON) to exactly `bytes` bytes. */
const paddedJson = (value: unknown, bytes: number): string => {
  const text = JSON.stringify(value);
  if (text.length > bytes) throw new Error(`${text.length} bytes already`);
  return text + ' '.repeat(bytes - text.length);
};

/** A valid definition whose YAML text is exactly `bytes` bytes, padded with a comment. */
const definitionYaml = (key: string, bytes: number): string => {
  const text = `key: ${key}\nname: Padded\nrelatedEntity: Padded\nstart: done\nactivities:\n  done: { type: end }\n# `;
  return text + 'p'.repeat(bytes - text.length);
};

/** A definition with `count` activities: a chain of automatic steps ending in an end. */
const chainOf = (key: string, count: number) => ({
  key,
  name: 'Chain',
  relatedEntity: 'Chain',
  start: 'a0',
  activities: Object.fromEntries(
    Array.from({ length: count }, (_, i) => [
      `a${i}`,
      i === count - 1 ? { type: 'end' } : { type: 'automatic', set: { step: `${i}` }, next: `a${i + 1}` },
    ]),
  ),
});

/** A FEEL condition of exactly `length` characters. */
const feelOfLength = (length: number): string => {
  const head = 'entity.amount > 0 or entity.status = "';
  return head + 'x'.repeat(length - head.length - 1) + '"';
};

/** An object nested `depth` levels deep ({} alone is depth 1). */
const nested = (depth: number): Record<string, unknown> => {
  let value: Record<string, unknown> = {};
  for (let i = 1; i < depth; i++) value = { n: value };
  return value;
};

describe('limits: one test per documented limit, just under accepted, just past refused with its code', () => {
  let lifeline: RunningLifeline;
  beforeAll(async () => {
    lifeline = await startLifeline({ demo: false });
  }, 60_000);
  afterAll(async () => {
    await lifeline?.stop();
  });

  const post = (user: string, path: string, body: unknown, contentType = 'application/json') =>
    lifeline.call(user, 'POST', path, typeof body === 'string' ? body : JSON.stringify(body), {
      'content-type': contentType,
    });

  it('request body: 1 MiB is accepted, 1 MiB + 1 byte is 413 REQUEST.TOO_LARGE', async () => {
    const under = await post('app', '/entity-events', paddedJson(envelope(), MiB));
    expect(under.status).toBe(202);
    const over = await post('app', '/entity-events', paddedJson(envelope(), MiB + 1));
    expect({ status: over.status, code: over.body.error?.code }).toEqual({ status: 413, code: 'REQUEST.TOO_LARGE' });
  });

  it('envelopes per POST /entity-events: 1,000 are recorded, 1,001 are 400 ENTITY_EVENT.BATCH_TOO_LARGE and none recorded', async () => {
    const under = Array.from({ length: 1000 }, () => envelope({}, 'Batch'));
    expect((await post('app', '/entity-events', under)).status).toBe(202);
    const over = Array.from({ length: 1001 }, () => envelope({}, 'Batch'));
    const refused = await post('app', '/entity-events', over);
    expect({ status: refused.status, code: refused.body.error?.code }).toEqual({
      status: 400,
      code: 'ENTITY_EVENT.BATCH_TOO_LARGE',
    });
    expect(await lifeline.engine.store.readStream(`entity-Batch-${over[0]!.entityId}`)).toEqual([]);
  });

  it('definition size: a 1 MiB document is published; 1 MiB + 1 byte is refused (413 over HTTP, DEFINITION.INVALID by the engine)', async () => {
    const under = await post('admin', '/definitions', definitionYaml('padded-under', MiB), 'application/yaml');
    expect(under.status).toBe(201);
    const over = await post('admin', '/definitions', definitionYaml('padded-over', MiB + 1), 'application/yaml');
    // The body limit and the definition limit are the same 1 MiB, so over HTTP the body limit answers first.
    expect({ status: over.status, code: over.body.error?.code }).toEqual({ status: 413, code: 'REQUEST.TOO_LARGE' });
    await expect(
      lifeline.engine.definitions.publish(definitionYaml('padded-over', MiB + 1), 'application/yaml', 'admin'),
    ).rejects.toMatchObject({
      code: 'DEFINITION.INVALID',
    });
  });

  it('activities per definition: 500 are published, 501 are 400 DEFINITION.INVALID', async () => {
    expect((await post('admin', '/definitions', chainOf('chain-under', 500))).status).toBe(201);
    const over = await post('admin', '/definitions', chainOf('chain-over', 501));
    expect({ status: over.status, code: over.body.error?.code }).toEqual({ status: 400, code: 'DEFINITION.INVALID' });
    expect(JSON.stringify(over.body.error.details)).toContain('at most 500 activities');
  });

  it('FEEL expression length: 4,000 characters are published, 4,001 are 400 DEFINITION.INVALID', async () => {
    const withCondition = (key: string, when: string) => ({
      key,
      name: key,
      relatedEntity: 'Feel',
      triggers: [{ on: 'created', when }],
      start: 'done',
      activities: { done: { type: 'end' } },
    });
    expect(feelOfLength(4000)).toHaveLength(4000);
    expect((await post('admin', '/definitions', withCondition('feel-under', feelOfLength(4000)))).status).toBe(201);
    const over = await post('admin', '/definitions', withCondition('feel-over', feelOfLength(4001)));
    expect({ status: over.status, code: over.body.error?.code }).toEqual({ status: 400, code: 'DEFINITION.INVALID' });
    expect(JSON.stringify(over.body.error.details)).toContain('triggers[0].when');
  });

  it('FEEL budget at publish: a literal range of 50,000 steps is published, 50,001 is 400 DEFINITION.INVALID naming the budget', async () => {
    const withBranch = (key: string, condition: string) => ({
      key,
      name: key,
      relatedEntity: 'Budget',
      start: 'route',
      activities: {
        route: { type: 'decision', branches: [{ when: condition, next: 'done' }], otherwise: 'done' },
        done: { type: 'end' },
      },
    });
    expect(
      (await post('admin', '/definitions', withBranch('budget-literal-under', 'every i in 1..50000 satisfies i > 0')))
        .status,
    ).toBe(201);
    const over = await post(
      'admin',
      '/definitions',
      withBranch('budget-literal-over', 'every i in 1..50001 satisfies i > 0'),
    );
    expect({ status: over.status, code: over.body.error?.code }).toEqual({ status: 400, code: 'DEFINITION.INVALID' });
    // Validation issues carry a path and a message, no code: the message names the budget.
    expect(over.body.error.details).toEqual([
      {
        path: 'activities.route.branches[0].when',
        message: expect.stringContaining('more than the budget of 50000 steps'),
      },
    ]);
  });

  it('FEEL budget at run time: 50,000 steps decide, 50,001 raise an incident FEEL.BUDGET_EXCEEDED', async () => {
    const published = await post('admin', '/definitions', {
      key: 'budget-run',
      name: 'Budget at run time',
      relatedEntity: 'Budget',
      triggers: [{ on: 'created' }],
      start: 'route',
      activities: {
        route: {
          type: 'decision',
          branches: [{ when: 'every i in 1..entity.amount satisfies i > 0', next: 'done' }],
          otherwise: 'done',
        },
        done: { type: 'end' },
      },
    });
    expect(published.status).toBe(201);
    for (const amount of [50_000, 50_001]) {
      expect(
        (await post('app', '/entity-events', { ...envelope({ amount }, 'Budget'), entityId: `B-${amount}` })).status,
      ).toBe(202);
    }
    await lifeline.settle();
    const instance = async (entityId: string) =>
      (await lifeline.call('admin', 'GET', `/instances?definition=budget-run&entityId=${entityId}`)).body.items[0];
    expect(await instance('B-50000')).toMatchObject({ status: 'completed' });
    const over = await instance('B-50001');
    expect(over).toMatchObject({ status: 'incident', currentActivity: 'route' });
    expect(over.incidents[0]).toMatchObject({ code: 'FEEL.BUDGET_EXCEEDED' });
  });

  it('regex input: 65,536 characters are matched, 65,537 raise an incident FEEL.BUDGET_EXCEEDED', async () => {
    const published = await post('admin', '/definitions', {
      key: 'regex-input',
      name: 'Regex input',
      relatedEntity: 'Pattern',
      triggers: [{ on: 'created' }],
      start: 'route',
      activities: {
        // One more character than the record holds, so both sides of the limit fit in an envelope string.
        route: {
          type: 'decision',
          branches: [{ when: 'matches(entity.text + "a", "^(a|aa)*$")', next: 'done' }],
          otherwise: 'done',
        },
        done: { type: 'end' },
      },
    });
    expect(published.status).toBe(201);
    for (const length of [KiB64 - 1, KiB64]) {
      const recorded = await post('app', '/entity-events', {
        ...envelope({ text: 'a'.repeat(length) }, 'Pattern'),
        entityId: `R-${length}`,
      });
      expect(recorded.status).toBe(202);
    }
    await lifeline.settle();
    const instance = async (entityId: string) =>
      (await lifeline.call('admin', 'GET', `/instances?definition=regex-input&entityId=${entityId}`)).body.items[0];
    expect(await instance(`R-${KiB64 - 1}`)).toMatchObject({ status: 'completed' });
    const over = await instance(`R-${KiB64}`);
    expect(over).toMatchObject({ status: 'incident', currentActivity: 'route' });
    expect(over.incidents[0]).toMatchObject({ code: 'FEEL.BUDGET_EXCEEDED' });
  });

  it('JSON nesting of a request: 64 levels pass the depth check, 65 are 400 REQUEST.TOO_DEEP', async () => {
    // The envelope's own limit (data nested 32) answers for 64 levels: the point is which check answers.
    const under = await post('app', '/entity-events', nested(64));
    expect(under.status).toBe(400);
    expect(under.body.error.code).not.toBe('REQUEST.TOO_DEEP');
    const over = await post('app', '/entity-events', nested(65));
    expect({ status: over.status, code: over.body.error?.code }).toEqual({ status: 400, code: 'REQUEST.TOO_DEEP' });
  });

  it('envelope data nesting: 32 levels are recorded, 33 are 400 ENTITY_EVENT.INVALID', async () => {
    expect((await post('app', '/entity-events', envelope({ deep: nested(31) }))).status).toBe(202);
    const over = await post('app', '/entity-events', envelope({ deep: nested(32) }));
    expect({ status: over.status, code: over.body.error?.code }).toEqual({ status: 400, code: 'ENTITY_EVENT.INVALID' });
  });

  it('one envelope over HTTP: 256 KiB are recorded, 256 KiB + 1 byte are 400 ENTITY_EVENT.INVALID', async () => {
    // Strings stop at 64 KiB, so the size is spread over five fields; JSON.stringify is how the envelope is measured.
    const sized = (bytes: number) => {
      const base = envelope({ s1: '', s2: '', s3: '', s4: '', s5: '' }, 'Sized');
      let left = bytes - JSON.stringify(base).length;
      for (const key of ['s1', 's2', 's3', 's4', 's5']) {
        const length = Math.min(60_000, left);
        left -= length;
        base.data[key] = 's'.repeat(length);
      }
      expect(JSON.stringify(base)).toHaveLength(bytes);
      return base;
    };
    expect((await post('app', '/entity-events', sized(256 * 1024))).status).toBe(202);
    const over = await post('app', '/entity-events', sized(256 * 1024 + 1));
    expect({ status: over.status, code: over.body.error?.code }).toEqual({ status: 400, code: 'ENTITY_EVENT.INVALID' });
  });

  it('strings in an envelope: 64 Ki characters are recorded, one more is 400 ENTITY_EVENT.INVALID', async () => {
    expect((await post('app', '/entity-events', envelope({ note: 'x'.repeat(KiB64) }))).status).toBe(202);
    const over = await post('app', '/entity-events', envelope({ note: 'x'.repeat(KiB64 + 1) }));
    expect({ status: over.status, code: over.body.error?.code }).toEqual({ status: 400, code: 'ENTITY_EVENT.INVALID' });
  });

  it('keys in an envelope: 10,000 are recorded, 10,001 are 400 ENTITY_EVENT.INVALID', async () => {
    const keys = (count: number) => Object.fromEntries(Array.from({ length: count }, (_, i) => [`k${i}`, i]));
    expect((await post('app', '/entity-events', envelope(keys(10_000)))).status).toBe(202);
    const over = await post('app', '/entity-events', envelope(keys(10_001)));
    expect({ status: over.status, code: over.body.error?.code }).toEqual({ status: 400, code: 'ENTITY_EVENT.INVALID' });
  });

  it('steps without a rest: a command running through 1,000 activities completes, 1,001 raise an incident FLOW.LOOP', async () => {
    // 499 rounds of count + route (998 steps), then finish and done: 1,000; with pad on the way, 1,001.
    const published = await post('admin', '/definitions', {
      key: 'loop-limit',
      name: 'Loop limit',
      relatedEntity: 'Loop',
      triggers: [{ on: 'created' }],
      start: 'count',
      activities: {
        count: { type: 'automatic', set: { n: 'if vars.n = null then 1 else vars.n + 1' }, next: 'route' },
        route: { type: 'decision', branches: [{ when: 'vars.n < 499', next: 'count' }], otherwise: 'finish' },
        finish: { type: 'decision', branches: [{ when: 'entity.pad = true', next: 'pad' }], otherwise: 'done' },
        pad: { type: 'automatic', set: { padded: 'true' }, next: 'done' },
        done: { type: 'end' },
      },
    });
    expect(published.status).toBe(201);
    for (const pad of [false, true]) {
      expect((await post('app', '/entity-events', { ...envelope({ pad }, 'Loop'), entityId: `L-${pad}` })).status).toBe(
        202,
      );
    }
    await lifeline.settle();
    const instance = async (entityId: string) =>
      (await lifeline.call('admin', 'GET', `/instances?definition=loop-limit&entityId=${entityId}`)).body.items[0];
    expect(await instance('L-false')).toMatchObject({ status: 'completed', variables: { n: 499 } });
    const over = await instance('L-true');
    expect(over).toMatchObject({ status: 'incident' });
    expect(over.incidents[0]).toMatchObject({ code: 'FLOW.LOOP' });
  });

  const FORM = ['f1', 'f2', 'f3', 'f4', 'f5', 'f6', 'f7'];
  it('task fields: 64 KiB complete the task, 64 KiB + 1 byte are 400 TASK.FIELDS_TOO_LARGE', async () => {
    expect(
      (
        await post('admin', '/definitions', {
          key: 'fields-limit',
          name: 'Fields limit',
          relatedEntity: 'Form',
          triggers: [{ on: 'created' }],
          start: 'fill',
          activities: {
            fill: {
              type: 'human',
              title: 'Fill the form',
              assignee: { user: 'carol' },
              form: FORM.map((name) => ({ name, type: 'text', required: false })),
              next: 'done',
            },
            done: { type: 'end' },
          },
        })
      ).status,
    ).toBe(201);
    expect((await post('app', '/entity-events', envelope({}, 'Form'))).status).toBe(202);
    await lifeline.settle();
    const [task] = (await lifeline.call('carol', 'GET', '/tasks?definition=fields-limit')).body.items as {
      id: string;
    }[];
    // A text field holds at most 10,000 characters, so 64 KiB take seven of them.
    const fields = (bytes: number) => {
      let left = bytes - JSON.stringify(Object.fromEntries(FORM.map((name) => [name, '']))).length;
      return Object.fromEntries(
        FORM.map((name) => {
          const length = Math.min(10_000, left);
          left -= length;
          return [name, 'n'.repeat(length)];
        }),
      );
    };
    expect(JSON.stringify(fields(KiB64 + 1))).toHaveLength(KiB64 + 1);
    expect(JSON.stringify(fields(KiB64))).toHaveLength(KiB64);
    const over = await post('carol', `/tasks/${task!.id}/complete`, { fields: fields(KiB64 + 1) });
    expect({ status: over.status, code: over.body.error?.code }).toEqual({
      status: 400,
      code: 'TASK.FIELDS_TOO_LARGE',
    });
    const under = await post('carol', `/tasks/${task!.id}/complete`, { fields: fields(KiB64) });
    expect(under.status).toBe(200);
  });

  it('instance variables: 64 KiB launch an instance, 64 KiB + 1 byte are 400 INSTANCE.VARIABLES_TOO_LARGE', async () => {
    expect(
      (
        await post('admin', '/definitions', {
          key: 'vars-limit',
          name: 'Variables limit',
          relatedEntity: 'Vars',
          start: 'done',
          activities: { done: { type: 'end' } },
        })
      ).status,
    ).toBe(201);
    const variables = (bytes: number) => ({ note: 'v'.repeat(bytes - JSON.stringify({ note: '' }).length) });
    const launch = (bytes: number) =>
      post('admin', '/instances', {
        definitionKey: 'vars-limit',
        entity: { type: 'Vars', id: `V-${bytes}` },
        variables: variables(bytes),
      });
    const over = await launch(KiB64 + 1);
    expect({ status: over.status, code: over.body.error?.code }).toEqual({
      status: 400,
      code: 'INSTANCE.VARIABLES_TOO_LARGE',
    });
    const under = await launch(KiB64);
    expect(under.status).toBe(201);
  });
});
