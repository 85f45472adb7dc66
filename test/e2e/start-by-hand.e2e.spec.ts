import jwt from 'jsonwebtoken';
import { startLifeline, TEST_SECRET, type RunningLifeline } from '@lifeline/testing';

/** A process sales (and finance) may start by hand for an invoice; its first task goes to sales. */
const QUERY = {
  key: 'invoice-query',
  name: 'Invoice query',
  relatedEntity: 'Invoice',
  startableBy: ['sales', 'finance'],
  start: 'answer',
  activities: {
    answer: { type: 'human', title: 'Answer the query', assignee: { role: 'sales' }, next: 'done' },
    done: { type: 'end' },
  },
};
/** The same without startableBy: admins only, as every definition was before. */
const AUDIT = { ...QUERY, key: 'invoice-audit', name: 'Invoice audit' } as Record<string, unknown>;
delete AUDIT.startableBy;

const launch = (definitionKey: string, id = 'INV-1') => ({
  definitionKey,
  entity: { type: 'Invoice', id },
  variables: { asked: 'by phone' },
});

describe('POST /instances: a process started by hand by the roles its definition names (startableBy)', () => {
  let lifeline: RunningLifeline;
  const sam = () => lifeline.token('sam', ['sales']);
  const fred = () => lifeline.token('fred', ['finance']);
  const olga = () => lifeline.token('olga', ['operations']);
  /** What a refused call must leave: the log's head where it was, and no instance of the record. */
  const nothingRecorded = async (head: number) => {
    expect(await lifeline.engine.store.headPosition()).toBe(head);
    await lifeline.settle();
    const instances = await lifeline.call('admin', 'GET', '/instances?entityType=Invoice&entityId=INV-9');
    expect(instances.body.items).toEqual([]);
  };

  beforeAll(async () => {
    lifeline = await startLifeline({ demo: false });
    for (const definition of [QUERY, AUDIT]) {
      expect((await lifeline.call('admin', 'POST', '/definitions', definition)).status).toBe(201);
    }
    await lifeline.settle();
  });
  afterAll(async () => {
    await lifeline.stop();
  });

  it('a sales member starts it: 201, the instance runs with a cause naming them, and its first task is in their Taskbox', async () => {
    const started = await lifeline.call(sam(), 'POST', '/instances', launch('invoice-query'));
    expect(started.status).toBe(201);
    const { instanceId, position } = started.body;
    const instance = await lifeline.call('admin', 'GET', `/instances/${instanceId}?minPosition=${position}`);
    expect(instance.body).toMatchObject({
      definitionKey: 'invoice-query',
      definitionVersion: 1,
      entity: { type: 'Invoice', id: 'INV-1' },
      status: 'running',
      variables: { asked: 'by phone' },
      cause: { kind: 'api', by: 'sam' },
    });
    const history = await lifeline.call('admin', 'GET', `/instances/${instanceId}/history`);
    expect(history.body.items[0]).toMatchObject({ type: 'InstanceStarted', actor: 'sam' });
    const tasks = await lifeline.call(sam(), 'GET', `/tasks?minPosition=${position}`);
    expect(tasks.body.items.map((t: { instanceId: string; title: string }) => [t.instanceId, t.title])).toEqual([
      [instanceId, 'Answer the query'],
    ]);
  });

  it('another role gets 403 INSTANCE.START_FORBIDDEN and nothing is recorded', async () => {
    const head = await lifeline.engine.store.headPosition();
    const refused = await lifeline.call(olga(), 'POST', '/instances', launch('invoice-query', 'INV-9'));
    expect(refused.status).toBe(403);
    expect(refused.body).toEqual({
      error: {
        code: 'INSTANCE.START_FORBIDDEN',
        message: 'Only admins and the roles in startableBy may start invoice-query by hand',
        details: { definitionKey: 'invoice-query' },
      },
    });
    // A definition without startableBy: only admins, even for a role another definition lets start.
    const audit = await lifeline.call(sam(), 'POST', '/instances', launch('invoice-audit', 'INV-9'));
    expect([audit.status, audit.body.error.code]).toEqual([403, 'INSTANCE.START_FORBIDDEN']);
    await nothingRecorded(head);
  });

  it('a token whose roles claim is forged, absent or not a list does not pass', async () => {
    const head = await lifeline.engine.store.headPosition();
    const signed = (claims: Record<string, unknown>, secret = TEST_SECRET) =>
      jwt.sign({ sub: 'mallory', ...claims }, secret, { algorithm: 'HS256', expiresIn: '1h' });
    const answers = [];
    for (const token of [
      signed({ roles: ['sales'] }, 'not-the-server-secret-0123456789abcdef'), // roles signed by someone else
      signed({ roles: ['admin'] }, 'not-the-server-secret-0123456789abcdef'),
      signed({}), // no roles claim
      signed({ roles: 'sales' }), // a string, not a list
      signed({ roles: [['sales']] }), // nested
      signed({ role: ['sales'] }), // another claim's name
    ]) {
      const answer = await lifeline.call(token, 'POST', '/instances', launch('invoice-query', 'INV-9'));
      answers.push([answer.status, answer.body.error.code]);
    }
    expect(answers).toEqual([
      [401, 'AUTH.INVALID_TOKEN'],
      [401, 'AUTH.INVALID_TOKEN'],
      [403, 'INSTANCE.START_FORBIDDEN'],
      [403, 'INSTANCE.START_FORBIDDEN'],
      [403, 'INSTANCE.START_FORBIDDEN'],
      [403, 'INSTANCE.START_FORBIDDEN'],
    ]);
    await nothingRecorded(head);
  });

  it('admins still start any definition, with or without startableBy', async () => {
    for (const key of ['invoice-query', 'invoice-audit']) {
      const started = await lifeline.call('admin', 'POST', '/instances', launch(key, 'INV-2'));
      expect(started.status).toBe(201);
      const instance = await lifeline.call(
        'admin',
        'GET',
        `/instances/${started.body.instanceId}?minPosition=${started.body.position}`,
      );
      expect(instance.body).toMatchObject({ definitionKey: key, cause: { kind: 'api', by: 'admin' } });
    }
  });

  it('GET /definitions?startable=true lists what the caller may start for a record type', async () => {
    const keys = async (token: string, query: string) =>
      ((await lifeline.call(token, 'GET', `/definitions?${query}`)).body.items as { key: string }[]).map((d) => d.key);
    expect(await keys(sam(), 'relatedEntity=Invoice&startable=true')).toEqual(['invoice-query']);
    expect(await keys(fred(), 'relatedEntity=Invoice&startable=true')).toEqual(['invoice-query']);
    expect(await keys(olga(), 'relatedEntity=Invoice&startable=true')).toEqual([]);
    expect(await keys(olga(), 'relatedEntity=Order&startable=true')).toEqual([]);
    expect(await keys(lifeline.tokens.admin!, 'relatedEntity=Invoice&startable=true')).toEqual([
      'invoice-audit',
      'invoice-query',
    ]);
    // Without the filter everyone still sees the grid, each row with its startableBy.
    const grid = await lifeline.call(olga(), 'GET', '/definitions?relatedEntity=Invoice');
    expect(grid.body.items.map((d: { key: string; startableBy: string[] }) => [d.key, d.startableBy])).toEqual([
      ['invoice-audit', []],
      ['invoice-query', ['sales', 'finance']],
    ]);
    const bad = await lifeline.call(sam(), 'GET', '/definitions?startable=yes');
    expect([bad.status, bad.body.error.code]).toEqual([400, 'QUERY.INVALID']);
  });

  it('a deactivated definition cannot be started by hand, by its roles or by an admin, and leaves the listing', async () => {
    const off = await lifeline.call('admin', 'POST', '/definitions/invoice-query/deactivate');
    expect(off.status).toBe(200);
    await lifeline.settle();
    const head = await lifeline.engine.store.headPosition();
    for (const token of [sam(), lifeline.tokens.admin!]) {
      const refused = await lifeline.call(token, 'POST', '/instances', launch('invoice-query', 'INV-9'));
      expect([refused.status, refused.body.error.code]).toEqual([409, 'DEFINITION.DISABLED']);
    }
    await nothingRecorded(head);
    const listed = await lifeline.call(sam(), 'GET', '/definitions?relatedEntity=Invoice&startable=true');
    expect(listed.body.items).toEqual([]);
    expect((await lifeline.call('admin', 'POST', '/definitions/invoice-query/activate')).status).toBe(200);
  });

  it('an unknown definition is 404, another record type 409, as before', async () => {
    const unknown = await lifeline.call(sam(), 'POST', '/instances', launch('no-such-process'));
    expect([unknown.status, unknown.body.error.code]).toEqual([404, 'DEFINITION.NOT_FOUND']);
    const wrong = await lifeline.call(sam(), 'POST', '/instances', {
      ...launch('invoice-query'),
      entity: { type: 'Order', id: 'O-1' },
    });
    expect([wrong.status, wrong.body.error.code]).toEqual([409, 'INSTANCE.WRONG_ENTITY_TYPE']);
  });
});
