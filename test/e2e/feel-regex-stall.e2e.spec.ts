import { BuiltServer } from './built-server';

// The pattern of issue 11 took 39 s on one 42-character field with a backtracking engine; ten such records
// would hold the server for minutes, so a server that still stalls fails this suite by its timeout.
jest.setTimeout(60_000);

const admin = { sub: 'admin', roles: ['admin'] };
const app = { sub: 'app', roles: ['ingest'] };

describe('a ReDoS pattern in a trigger condition does not stall the built server', () => {
  let server: BuiltServer;
  beforeAll(async () => {
    server = await BuiltServer.start({ LIFELINE_DEMO: 'false' });
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('records with the 42-character field that froze it are judged, /health answers, the next record starts its process', async () => {
    const published = await server.call(admin, 'POST', '/definitions', {
      key: 'probe-pattern',
      name: 'Probe pattern',
      relatedEntity: 'Probe',
      triggers: [{ on: 'created', when: 'matches(entity.x, "^(a|aa)*$")' }],
      start: 'done',
      activities: { done: { type: 'end' } },
    });
    expect(published.status).toBe(201);

    const envelope = (entityId: string, x: string) => ({
      id: `evt-${entityId}`,
      entityType: 'Probe',
      entityId,
      kind: 'created',
      occurredAt: '2026-11-21T10:00:00Z',
      data: { x },
    });
    const hostile = Array.from({ length: 10 }, (_, i) => envelope(`P-${i}`, 'a'.repeat(41) + '!'));
    expect((await server.call(app, 'POST', '/entity-events', hostile)).status).toBe(202);
    expect((await server.call(app, 'POST', '/entity-events', envelope('P-OK', 'a'.repeat(42)))).status).toBe(202);

    const health = await server.call(null, 'GET', '/health');
    expect(health.status).toBe(200);

    const started = await server.until(
      () => server.call(admin, 'GET', '/instances?definition=probe-pattern'),
      (answer) => answer.body?.items?.length > 0,
    );
    expect(started.body.items.map((i: { entity: { id: string } }) => i.entity.id)).toEqual(['P-OK']);
    expect(started.body.items[0]).toMatchObject({ status: 'completed' });
    // The hostile records were judged (false), not dropped: each is on its record's timeline.
    const timeline = await server.call(admin, 'GET', '/entities/Probe/P-9/timeline');
    expect(timeline.status).toBe(200);
    expect(timeline.body.items.map((i: { kind: string }) => i.kind)).toEqual(['EntityEventRecorded']);
  });
});
