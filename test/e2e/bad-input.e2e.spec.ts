import { startLifeline, type RunningLifeline } from '@lifeline/testing';

const envelope = (over: Record<string, unknown> = {}) => ({
  id: 'evt-1',
  entityType: 'Invoice',
  entityId: 'INV-1',
  kind: 'created',
  occurredAt: '2026-11-21T10:00:00Z',
  data: { amount: 10, ownerId: 'alice', status: 'New' },
  ...over,
});

describe('bad input gets a 4xx with a stable code, and nothing partial is recorded', () => {
  let lifeline: RunningLifeline;
  beforeAll(async () => {
    lifeline = await startLifeline();
  });
  afterAll(async () => {
    await lifeline.stop();
  });

  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- a JSON answer of any shape
  const expectError = (response: { status: number; body: any }, status: number, code: string) => {
    expect({ status: response.status, code: response.body?.error?.code }).toEqual({ status, code });
    expect(typeof response.body.error.message).toBe('string');
  };

  it('refuses malformed envelopes with every issue by path, and records none of a bad batch', async () => {
    const head = await lifeline.engine.store.headPosition();
    const bad = await lifeline.call('app', 'POST', '/entity-events', [
      envelope({ id: 'ok-1' }),
      envelope({ id: 'bad-1', kind: 'exploded', entityId: 42 }),
    ]);
    expectError(bad, 400, 'ENTITY_EVENT.INVALID');
    expect(bad.body.error.details.map((d: { path: string }) => d.path).sort()).toEqual(['[1].entityId', '[1].kind']);
    expect(await lifeline.engine.store.headPosition()).toBe(head);

    expectError(
      await lifeline.call('app', 'POST', '/entity-events', '{"id": "x", ', { 'content-type': 'application/json' }),
      400,
      'REQUEST.MALFORMED_JSON',
    );
    expectError(await lifeline.call('app', 'POST', '/entity-events', []), 400, 'ENTITY_EVENT.EMPTY_BATCH');
    expectError(
      await lifeline.call(
        'app',
        'POST',
        '/entity-events',
        envelope({ data: { __proto__: { polluted: true } }, extra: 1 }),
      ),
      400,
      'ENTITY_EVENT.INVALID',
    );
    const huge = await lifeline.call(
      'app',
      'POST',
      '/entity-events',
      envelope({ data: { blob: 'x'.repeat(1_100_000) } }),
    );
    expectError(huge, 413, 'REQUEST.TOO_LARGE');
    const many = await lifeline.call(
      'app',
      'POST',
      '/entity-events',
      Array.from({ length: 1001 }, (_, i) => envelope({ id: `m-${i}` })),
    );
    expectError(many, 400, 'ENTITY_EVENT.BATCH_TOO_LARGE');
    expect(await lifeline.engine.store.headPosition()).toBe(head);
  });

  it('refuses a JSON body with a key twice in one object (400 REQUEST.DUPLICATE_KEY with the path), escapes included, and records nothing', async () => {
    const head = await lifeline.engine.store.headPosition();
    const json = { 'content-type': 'application/json' };
    const twice = JSON.stringify(envelope({ id: 'dup-1' })).replace(
      '"kind":"created"',
      '"kind":"created","kind":"deleted"',
    );
    const single = await lifeline.call('app', 'POST', '/entity-events', twice, json);
    expectError(single, 400, 'REQUEST.DUPLICATE_KEY');
    expect(single.body.error.details).toEqual([{ path: 'kind', message: "duplicate key 'kind'" }]);

    const escapedInData = `[${JSON.stringify(envelope({ id: 'dup-2' }))},${JSON.stringify(
      envelope({ id: 'dup-3' }),
    ).replace('"status":"New"', '"status":"New","st\\u0061tus":"Paid"')}]`;
    const batch = await lifeline.call('app', 'POST', '/entity-events', escapedInData, json);
    expectError(batch, 400, 'REQUEST.DUPLICATE_KEY');
    expect(batch.body.error.details[0].path).toBe('[1].data.status');

    const definition = await lifeline.call(
      'admin',
      'POST',
      '/definitions',
      '{"key":"dup-def","name":"x","relatedEntity":"Invoice","start":"a","activities":{"a":{"type":"end"}},"start":"b"}',
      json,
    );
    expectError(definition, 400, 'REQUEST.DUPLICATE_KEY');
    expect(definition.body.error.details[0].path).toBe('start');
    // The same key in different objects is fine, and so is a key spelled inside a string.
    const fine = JSON.stringify(envelope({ id: 'dup-ok', data: { amount: 1, ownerId: 'alice', note: '"kind":"x"' } }));
    expect((await lifeline.call('app', 'POST', '/entity-events', fine, json)).status).toBe(202);
    expect(await lifeline.engine.store.headPosition()).toBeGreaterThan(head);
    await lifeline.settle();
    const recorded = (await lifeline.engine.store.readAll(head, 1000))
      .map((e) => e.type === 'EntityEventRecorded' && (e.data as { envelope: { id: string } }).envelope.id)
      .filter(Boolean);
    expect(recorded).toEqual(['dup-ok']);
  });

  it('refuses a YAML definition with a key twice (DEFINITION.INVALID naming it)', async () => {
    const response = await lifeline.call(
      'admin',
      'POST',
      '/definitions',
      'key: dup-yaml\nname: x\nrelatedEntity: Invoice\nstart: a\nactivities:\n  a: { type: end }\nstart: b\n',
      { 'content-type': 'application/yaml' },
    );
    expectError(response, 400, 'DEFINITION.INVALID');
    expect(response.body.error.details).toEqual([{ path: 'start', message: "duplicate key 'start' at 7:1" }]);
  });

  it('refuses an invalid definition with every error by path', async () => {
    const response = await lifeline.call(
      'admin',
      'POST',
      '/definitions',
      'key: Bad Key\nname: x\nrelatedEntity: Invoice\nstart: a\nactivities:\n  a: { type: human, title: t, assignee: { role: r }, next: nowhere, dueIn: P2X }\n  b: { type: end }\n  c: { type: decision, branches: [{ when: "entity.amount >", next: b }], otherwise: b, colour: red }\n',
      { 'content-type': 'application/yaml' },
    );
    expectError(response, 400, 'DEFINITION.INVALID');
    const paths = response.body.error.details.map((d: { path: string }) => d.path);
    expect(paths).toEqual(
      expect.arrayContaining([
        'key',
        'activities.a.next',
        'activities.a.dueIn',
        'activities.c.branches[0].when',
        'activities.c.colour',
      ]),
    );
  });

  it('task actions: wrong result, missing required field, someone else’s task, unknown ids', async () => {
    await lifeline.call('app', 'POST', '/entity-events', {
      ...envelope({ id: 'c-1', entityType: 'Complaint', entityId: 'C-1' }),
      data: { ownerId: 'carol' },
    });
    await lifeline.settle();
    const [task] = (await lifeline.call('carol', 'GET', '/tasks')).body.items;
    expect(task.title).toBe('Triage the complaint');
    expectError(
      await lifeline.call('carol', 'POST', `/tasks/${task.id}/complete`, {
        result: 'Maybe',
        answers: ['Billing'],
        fields: { summary: 'x' },
      }),
      400,
      'TASK.INVALID_RESULT',
    );
    expectError(
      await lifeline.call('carol', 'POST', `/tasks/${task.id}/complete`, {
        result: 'Handle',
        answers: ['Billing'],
        fields: {},
      }),
      400,
      'TASK.REQUIRED_FIELD_MISSING',
    );
    expectError(
      await lifeline.call('carol', 'POST', `/tasks/${task.id}/complete`, {
        result: 'Handle',
        answers: ['Rude'],
        fields: { summary: 'x' },
      }),
      400,
      'TASK.INVALID_ANSWER',
    );
    expectError(
      await lifeline.call('carol', 'POST', `/tasks/${task.id}/complete`, { result: 'Handle', answers: 'Billing' }),
      400,
      'REQUEST.INVALID',
    );
    // Someone else's task answers exactly as a task that does not exist: the id tells bob nothing.
    const ghost = `${task.instanceId}.ghost.1`;
    const noInstance = '00000000-0000-4000-8000-000000000000.triage.1';
    for (const path of ['', '/claim', '/release']) {
      const answers = await Promise.all(
        [task.id, ghost, noInstance].map((id) => lifeline.call('bob', path ? 'POST' : 'GET', `/tasks/${id}${path}`)),
      );
      expectError(answers[0]!, 404, 'TASK.NOT_FOUND');
      expect(answers.map((a) => ({ status: a.status, body: a.body }))).toEqual(
        Array(3).fill({ status: 404, body: { error: { code: 'TASK.NOT_FOUND', message: 'No such task' } } }),
      );
    }
    expectError(await lifeline.call('bob', 'POST', '/tasks/nope/claim'), 404, 'TASK.NOT_FOUND');
    expectError(
      await lifeline.call('admin', 'GET', '/instances/00000000-0000-4000-8000-000000000000'),
      404,
      'INSTANCE.NOT_FOUND',
    );
    expectError(await lifeline.call('admin', 'GET', '/definitions/nope'), 404, 'DEFINITION.NOT_FOUND');
    expectError(
      await lifeline.call('carol', 'POST', `/tasks/${task.id}/postpone`, { until: 'tomorrow' }),
      400,
      'REQUEST.INVALID',
    );
    expectError(await lifeline.call('admin', 'GET', '/tasks?minPosition=-3'), 400, 'QUERY.INVALID_MIN_POSITION');
  });

  it('a body of a type the operation does not take: 415 naming the accepted types, nothing recorded', async () => {
    const head = await lifeline.engine.store.headPosition();
    const csv = await lifeline.call('admin', 'POST', '/definitions', 'key,name\ninvoice,Invoice', {
      'content-type': 'text/csv',
    });
    expectError(csv, 415, 'REQUEST.UNSUPPORTED_MEDIA_TYPE');
    expect(csv.body.error.details.accepted).toEqual([
      'application/json',
      'application/yaml',
      'application/x-yaml',
      'text/yaml',
      'text/plain',
      'application/bpmn+xml',
      'application/xml',
      'text/xml',
    ]);
    const form = await lifeline.call('app', 'POST', '/entity-events', 'id=1&kind=created', {
      'content-type': 'application/x-www-form-urlencoded',
    });
    expectError(form, 415, 'REQUEST.UNSUPPORTED_MEDIA_TYPE');
    expect(form.body.error.details.accepted).toEqual(['application/json']);
    const yamlTask = await lifeline.call('carol', 'POST', '/tasks/x/complete', 'result: Handle', {
      'content-type': 'application/yaml',
    });
    expectError(yamlTask, 415, 'REQUEST.UNSUPPORTED_MEDIA_TYPE');
    // Charset parameters and case do not matter; YAML still publishes.
    const json = await lifeline.call('admin', 'POST', '/definitions', '{}', {
      'content-type': 'Application/JSON; charset=utf-8',
    });
    expectError(json, 400, 'DEFINITION.EMPTY');
    expect(await lifeline.engine.store.headPosition()).toBe(head);
  });

  it('auth: no token 401, bad token 401, wrong role 403', async () => {
    expectError(await lifeline.call(null, 'GET', '/tasks'), 401, 'AUTH.MISSING_TOKEN');
    expectError(await lifeline.call('not-a-jwt', 'GET', '/tasks'), 401, 'AUTH.INVALID_TOKEN');
    expectError(await lifeline.call('bob', 'POST', '/entity-events', envelope()), 403, 'AUTH.FORBIDDEN');
    expectError(await lifeline.call('bob', 'POST', '/definitions', { key: 'x' }), 403, 'AUTH.FORBIDDEN');
  });

  it('a FEEL error at run time raises an incident on that instance; the engine goes on', async () => {
    const published = await lifeline.call('admin', 'POST', '/definitions', {
      key: 'fragile',
      name: 'Fragile',
      relatedEntity: 'Parcel',
      triggers: [{ on: 'created' }],
      start: 'route',
      activities: {
        route: { type: 'decision', branches: [{ when: 'entity.weight > 10', next: 'heavy' }], otherwise: 'light' },
        heavy: { type: 'human', title: 'Heavy', assignee: { userFrom: 'entity.handler' }, next: 'done' },
        light: { type: 'end' },
        done: { type: 'end' },
      },
    });
    expect(published.status).toBe(201);
    await lifeline.call('app', 'POST', '/entity-events', [
      { ...envelope({ id: 'p-1', entityType: 'Parcel', entityId: 'P-1' }), data: { weight: 20 } },
      { ...envelope({ id: 'p-2', entityType: 'Parcel', entityId: 'P-2' }), data: { weight: 20, handler: 'dave' } },
    ]);
    await lifeline.settle();
    const items = (await lifeline.call('admin', 'GET', '/instances?definition=fragile')).body.items;
    const byRecord = Object.fromEntries(items.map((i: { entity: { id: string } }) => [i.entity.id, i]));
    expect(byRecord['P-1']).toMatchObject({ status: 'incident', currentActivity: 'heavy' });
    expect(byRecord['P-1'].incidents[0]).toMatchObject({ code: 'TASK.ASSIGNEE_UNRESOLVED', activityId: 'heavy' });
    expect(byRecord['P-2']).toMatchObject({ status: 'running', currentActivity: 'heavy' });
  });
});
