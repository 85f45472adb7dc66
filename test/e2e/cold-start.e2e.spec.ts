import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { invoiceEnvelope } from '@lifeline/process-domain';
import { BuiltServer } from './built-server';

jest.setTimeout(90_000);

const APP = { sub: 'app', roles: ['ingest'] };
const ALICE = { sub: 'alice', roles: ['accounting'] };
const ADMIN = { sub: 'ops', roles: ['admin'] };

const envelopes = (run: string) =>
  Array.from({ length: 10 }, (_, i) => invoiceEnvelope(run, i, {}, '2026-11-30T10:00:00.000Z'));

const ORDER_REVIEW = [
  'key: order-review',
  'name: Order review',
  'relatedEntity: Order',
  'triggers:',
  '  - on: created',
  '    when: entity.amount > 0',
  'start: review',
  'activities:',
  '  review: { type: human, title: Review the order, assignee: { role: accounting }, next: done }',
  '  done: { type: end }',
].join('\n');

describe('a freshly started server', () => {
  let dir: string;
  let server: BuiltServer | undefined;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'lifeline-cold-'));
  });
  afterEach(async () => {
    await server?.stop();
    server = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  it('loads no module while it answers its first requests (JSON and text bodies, queries, task actions)', async () => {
    const late = join(dir, 'late-requires.txt');
    server = await BuiltServer.start({
      NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --require ${join(__dirname, 'helpers', 'late-requires.cjs')}`,
      LATE_REQUIRES_FILE: late,
    });
    expect((await server.call(null, 'GET', '/health/ready')).status).toBe(200);
    expect((await server.call(APP, 'POST', '/entity-events', envelopes('cold'))).status).toBe(202);
    const published = await server.call(ADMIN, 'POST', '/definitions', ORDER_REVIEW, {
      'content-type': 'application/yaml',
    });
    expect(published.status).toBe(201);
    const tasks = await server.until(
      () => server!.call(ALICE, 'GET', '/tasks?status=all&limit=1&entityId=cold-INV-9'),
      (answer) => answer.body.items?.length === 1,
    );
    const taskId = tasks.body.items[0].id as string;
    expect((await server.call(ALICE, 'POST', `/tasks/${taskId}/claim`)).status).toBe(200);
    expect((await server.call(ALICE, 'POST', `/tasks/${taskId}/complete`, { result: 'Reject' })).status).toBe(200);
    expect((await server.call(null, 'GET', '/health')).status).toBe(200);

    let loaded = '';
    try {
      loaded = readFileSync(late, 'utf8');
    } catch {
      // no file: nothing was loaded late
    }
    expect(loaded.split('\n').filter(Boolean)).toEqual([]);
  });
});
