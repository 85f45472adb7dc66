import { startLifeline, type RunningLifeline } from '@lifeline/testing';
import { bodyText, fingerprint, loadCorpus, type CorpusCase } from './corpus';

interface FeelCase {
  name: string;
  expression: string;
  amount?: number;
  /** An incident with this code, or (outcome "false") the condition is simply false: no host code was reached. */
  code?: string;
  outcome?: 'false';
}

const envelopes = loadCorpus('envelopes.json');
const definitions = loadCorpus('definitions.json');
const taskActions = loadCorpus('task-actions.json');
const feelAtRunTime = loadCorpus<FeelCase>('feel-at-run-time.json');

describe('hostile input: every case gets a 4xx with a code, nothing recorded changes, the server keeps answering', () => {
  let lifeline: RunningLifeline;
  let taskId: string;

  beforeAll(async () => {
    lifeline = await startLifeline();
    // One open task (Complaint triage, assigned to carol) for the task-action corpus, and some history to protect.
    const created = await lifeline.call('app', 'POST', '/entity-events', {
      id: 'corpus-c-1',
      entityType: 'Complaint',
      entityId: 'C-CORPUS',
      kind: 'created',
      occurredAt: '2026-11-21T10:00:00Z',
      data: { ownerId: 'carol' },
    });
    expect(created.status).toBe(202);
    await lifeline.settle();
    const tasks = (await lifeline.call('carol', 'GET', '/tasks')).body.items as { id: string; title: string }[];
    taskId = tasks.find((task) => task.title === 'Triage the complaint')!.id;
  }, 60_000);
  afterAll(async () => {
    await lifeline?.stop();
  });

  const send = async (user: string, path: string, testCase: CorpusCase) => {
    const before = await fingerprint(lifeline.engine.store);
    const contentType = testCase.contentType ?? 'application/json';
    const response = await lifeline.call(user, 'POST', path, bodyText(testCase), { 'content-type': contentType });
    await lifeline.settle();
    const after = await fingerprint(lifeline.engine.store);
    return { response, before, after };
  };

  const expectRefused = (testCase: CorpusCase, outcome: Awaited<ReturnType<typeof send>>) => {
    const { response, before, after } = outcome;
    expect({ status: response.status, code: testCase.code ? response.body?.error?.code : 'any' }).toEqual({
      status: testCase.status,
      code: testCase.code ?? 'any',
    });
    expect(typeof response.body?.error?.code).toBe('string');
    expect(after).toEqual(before);
  };

  it.each(envelopes.map((c) => [c.name, c] as const))('POST /entity-events: %s', async (_name, testCase) => {
    expectRefused(testCase, await send('app', '/entity-events', testCase));
  });

  it.each(definitions.map((c) => [c.name, c] as const))('POST /definitions: %s', async (_name, testCase) => {
    expectRefused(testCase, await send('admin', '/definitions', testCase));
  });

  it.each(taskActions.map((c) => [c.name, c] as const))('POST /tasks/:id/<action>: %s', async (_name, testCase) => {
    expectRefused(testCase, await send(testCase.as ?? 'carol', `/tasks/${taskId}/${testCase.action}`, testCase));
  });

  it('odd but well-formed Unicode is recorded verbatim', async () => {
    const data = { note: '\u202eevil\ufeff', emoji: '👩‍👩‍👧', combining: 'é', astral: '\u{1F600}', rtl: 'שלום' };
    const response = await lifeline.call('app', 'POST', '/entity-events', {
      id: 'odd-unicode',
      entityType: 'Invoice',
      entityId: 'INV-ÜNÏ',
      kind: 'created',
      occurredAt: '2026-11-21T10:00:00Z',
      data: { amount: 1, ownerId: 'alice', status: 'New', ...data },
    });
    expect(response.status).toBe(202);
    const [recorded] = await lifeline.engine.store.readStream('entity-Invoice-INV-ÜNÏ');
    expect((recorded.data as { envelope: { data: unknown } }).envelope.data).toMatchObject(data);
  });

  it('after the whole corpus the server answers, the task is still open, and a valid envelope is recorded', async () => {
    expect((await lifeline.call(null, 'GET', '/health')).status).toBe(200);
    const task = await lifeline.call('carol', 'GET', `/tasks/${taskId}`);
    expect(task.status).toBe(200);
    expect(task.body.status).not.toBe('completed');
    const ok = await lifeline.call('app', 'POST', '/entity-events', {
      id: 'corpus-after',
      entityType: 'Invoice',
      entityId: 'INV-AFTER',
      kind: 'created',
      occurredAt: '2026-11-21T10:00:00Z',
      data: { amount: 5, ownerId: 'alice', status: 'New' },
    });
    expect(ok.status).toBe(202);
    expect(Object.prototype.hasOwnProperty.call({}, 'polluted')).toBe(false);
    expect(({} as Record<string, unknown>).isAdmin).toBeUndefined();
  });

  it.each(feelAtRunTime.map((c, i) => [c.name, c, i] as const))(
    'FEEL at run time: %s raises an incident and the engine goes on',
    async (_name, feel, index) => {
      const key = `hostile-feel-${index}`;
      const entityType = `Probe${index}`;
      const published = await lifeline.call('admin', 'POST', '/definitions', {
        key,
        name: key,
        relatedEntity: entityType,
        triggers: [{ on: 'created' }],
        start: 'route',
        activities: {
          route: { type: 'decision', branches: [{ when: feel.expression, next: 'done' }], otherwise: 'done' },
          done: { type: 'end' },
        },
      });
      expect(published.status).toBe(201);
      const started = performance.now();
      const recorded = await lifeline.call('app', 'POST', '/entity-events', {
        id: `probe-${index}`,
        entityType,
        entityId: 'P-1',
        kind: 'created',
        occurredAt: '2026-11-21T10:00:00Z',
        data: { amount: feel.amount ?? 1, status: `${'a'.repeat(40)}!` },
      });
      expect(recorded.status).toBe(202);
      await lifeline.settle();
      expect(performance.now() - started).toBeLessThan(5_000);
      const [instance] = (await lifeline.call('admin', `GET`, `/instances?definition=${key}`)).body.items;
      if (feel.outcome === 'false') {
        expect(instance).toMatchObject({ status: 'completed' });
        expect(instance.incidents ?? []).toEqual([]);
      } else {
        expect(instance).toMatchObject({ status: 'incident', currentActivity: 'route' });
        expect(instance.incidents[0]).toMatchObject({ code: feel.code });
      }
    },
  );
});
