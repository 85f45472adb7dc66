import jwt from 'jsonwebtoken';
import { startLifeline, TEST_SECRET, type RunningLifeline } from '@lifeline/testing';

const ENDPOINTS: [string, string][] = [
  ['GET', '/tasks'], ['GET', '/definitions'], ['GET', '/definitions/invoice-approval'], ['GET', '/instances'],
  ['POST', '/entity-events'], ['POST', '/definitions'], ['POST', '/instances'], ['GET', '/entities/Complaint/C-AUTH/timeline'],
];

describe('authorization matrix: a caller without a valid token is refused everywhere and sees no data', () => {
  let lifeline: RunningLifeline;
  let taskId: string;
  beforeAll(async () => {
    lifeline = await startLifeline();
    await lifeline.call('app', 'POST', '/entity-events', {
      id: 'auth-c-1', entityType: 'Complaint', entityId: 'C-AUTH', kind: 'created', occurredAt: '2026-11-21T10:00:00Z',
      data: { ownerId: 'carol', secretNote: 'zebra-umbrella-42' },
    });
    await lifeline.settle();
    taskId = (await lifeline.call('carol', 'GET', '/tasks')).body.items[0].id;
  }, 60_000);
  afterAll(async () => {
    await lifeline?.stop();
  });

  const now = Math.floor(Date.parse('2026-11-21T10:00:00Z') / 1000);
  const callers: Record<string, () => string | null> = {
    'no token': () => null,
    'expired token': () => jwt.sign({ sub: 'admin', roles: ['admin'], exp: now - 3600, iat: now - 7200 }, TEST_SECRET, { algorithm: 'HS256', noTimestamp: true }),
    'wrong signature': () => jwt.sign({ sub: 'admin', roles: ['admin'] }, 'another-secret-0123456789abcdef0123', { algorithm: 'HS256' }),
    'alg none': () => jwt.sign({ sub: 'admin', roles: ['admin'] }, '', { algorithm: 'none' }),
  };

  it('every endpoint × every invalid caller answers 401 with a code and no task, instance or record data', async () => {
    let cells = 0;
    const endpoints = [...ENDPOINTS, ['GET', `/tasks/${taskId}`], ['POST', `/tasks/${taskId}/claim`], ['POST', `/tasks/${taskId}/complete`]] as [string, string][];
    for (const [caller, token] of Object.entries(callers)) {
      for (const [method, path] of endpoints) {
        const answer = await lifeline.call(token() ?? null, method, path, method === 'POST' ? {} : undefined);
        const text = JSON.stringify(answer.body);
        expect({ caller, method, path, status: answer.status }).toEqual({ caller, method, path, status: 401 });
        expect(answer.body.error.code).toMatch(/^AUTH\./);
        expect(text).not.toContain('Triage the complaint');
        expect(text).not.toContain('zebra-umbrella-42');
        expect(text).not.toContain(taskId.split('.')[0]);
        cells++;
      }
    }
    expect(cells).toBe(Object.keys(callers).length * endpoints.length);
  });

  it('a user with no roles and another user are denied the task and see none of its data', async () => {
    for (const token of [lifeline.token('nobody', []), lifeline.tokens.bob]) {
      const answer = await lifeline.call(token, 'GET', `/tasks/${taskId}`);
      expect(answer.status).toBe(403);
      expect(JSON.stringify(answer.body)).not.toContain('Triage the complaint');
      expect((await lifeline.call(token, 'POST', `/tasks/${taskId}/complete`, { result: 'Handle' })).status).toBe(403);
      expect((await lifeline.call(token, 'POST', '/entity-events', {})).status).toBe(403);
    }
    expect((await lifeline.call('carol', 'GET', `/tasks/${taskId}`)).status).toBe(200);
    expect((await lifeline.call('admin', 'GET', `/tasks/${taskId}`)).status).toBe(200);
  });
});
