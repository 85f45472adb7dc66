import { Agent, request } from 'node:http';
import { BuiltServer } from './built-server';

/**
 * What the HTTP layer writes besides the body, pinned while its per-request path is made cheaper:
 * the JSON headers, HEAD, conditional GETs, 405/OPTIONS with Allow, 415, 404, trailing slashes.
 */
describe('HTTP answers: headers and status of the built server', () => {
  let server: BuiltServer;
  beforeAll(async () => {
    server = await BuiltServer.start();
  }, 60_000);
  afterAll(async () => {
    await server.stop();
  });

  const ask = async (method: string, path: string, headers: Record<string, string> = {}, body?: string) => {
    const response = await fetch(server.url + path, { method, headers, body });
    return { status: response.status, headers: response.headers, text: await response.text() };
  };
  /** node:http, not fetch: fetch adds Cache-Control: no-cache to a conditional request, which makes none fresh. */
  const raw = (method: string, path: string, headers: Record<string, string>) =>
    new Promise<{ status: number; text: string }>((done, fail) => {
      const req = request(server.url + path, { method, headers }, (response) => {
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (text += chunk));
        response.on('end', () => done({ status: response.statusCode!, text }));
      });
      req.on('error', fail);
      req.end();
    });
  const auth = (sub: string, roles: string[]) => ({ authorization: `Bearer ${server.token(sub, roles)}` });

  it('keeps an idle keep-alive connection open past 5 s, and says for how long', async () => {
    // Node closes idle sockets after 5 s by default: a client reusing one as it closes gets "other side closed".
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const get = () =>
      new Promise<{ status: number; reused: boolean; keepAlive: string | undefined }>((done, fail) => {
        const req = request(server.url + '/health/live', { agent }, (response) => {
          response.resume();
          response.on('end', () =>
            done({
              status: response.statusCode!,
              reused: req.reusedSocket,
              keepAlive: response.headers['keep-alive'] as string | undefined,
            }),
          );
        });
        req.on('error', fail);
        req.end();
      });
    try {
      const first = await get();
      expect(first).toEqual({ status: 200, reused: false, keepAlive: 'timeout=65' });
      await new Promise((done) => setTimeout(done, 5_600));
      expect(await get()).toEqual({ status: 200, reused: true, keepAlive: 'timeout=65' });
    } finally {
      agent.destroy();
    }
  }, 20_000);

  it('a JSON answer: content-type with charset, exact content-length, no ETag, no X-Powered-By', async () => {
    const live = await ask('GET', '/health/live');
    expect(live.status).toBe(200);
    expect(live.text).toBe('{"ok":true}');
    expect(live.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(live.headers.get('content-length')).toBe('11');
    expect(live.headers.get('etag')).toBeNull();
    expect(live.headers.get('x-powered-by')).toBeNull();
    // Multi-byte text: the length counts bytes, not characters.
    const post = await ask(
      'POST',
      '/entity-events',
      { ...auth('app', ['ingest']), 'content-type': 'application/json' },
      JSON.stringify({
        id: 'e-ü-1',
        entityType: 'Invoice',
        entityId: 'INV-ü',
        kind: 'created',
        occurredAt: '2026-11-21T10:00:00Z',
        data: { amount: 0, note: 'Grüße' },
      }),
    );
    expect(post.status).toBe(202);
    expect(post.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(Number(post.headers.get('content-length'))).toBe(Buffer.byteLength(post.text));
    expect(JSON.parse(post.text)).toEqual({ position: expect.any(Number), recorded: 1, duplicates: 0 });
    const tasks = await ask('GET', '/tasks?status=all&limit=1&entityId=INV-%C3%BC', auth('alice', ['accounting']));
    expect(tasks.status).toBe(200);
    expect(Number(tasks.headers.get('content-length'))).toBe(Buffer.byteLength(tasks.text));
    expect(JSON.parse(tasks.text)).toMatchObject({ items: [] });
  });

  it('HEAD answers the headers of GET without a body; If-None-Match: * answers 304 as Express does', async () => {
    const head = await ask('HEAD', '/health/live');
    expect(head.status).toBe(200);
    expect(head.text).toBe('');
    expect(head.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(head.headers.get('content-length')).toBe('11');
    expect(await raw('GET', '/health/live', { 'if-none-match': '*' })).toEqual({ status: 304, text: '' });
    expect(await raw('GET', '/health/live', { 'if-none-match': '*', 'cache-control': 'no-cache' })).toEqual({
      status: 200,
      text: '{"ok":true}',
    });
    const trailing = await ask('GET', '/health/live/');
    expect({ status: trailing.status, text: trailing.text }).toEqual({ status: 200, text: '{"ok":true}' });
  });

  it('a known path with a method it lacks: 405 with Allow; OPTIONS: 204 with Allow; unknown: 404', async () => {
    const wrong = await ask('DELETE', '/tasks', auth('alice', ['accounting']));
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get('allow')).toBe('GET, HEAD');
    expect(JSON.parse(wrong.text)).toEqual({
      error: { code: 'METHOD_NOT_ALLOWED', message: 'DELETE is not allowed here; use GET, HEAD' },
    });
    const options = await ask('OPTIONS', '/tasks/x/claim');
    expect({ status: options.status, allow: options.headers.get('allow') }).toEqual({ status: 204, allow: 'POST' });
    const unknown = await ask('GET', '/no-such-thing', auth('alice', ['accounting']));
    expect(unknown.status).toBe(404);
    expect(JSON.parse(unknown.text).error.code).toBe('NOT_FOUND');
  });

  it('a body of a type the operation does not take: 415; a body too deep: 400 REQUEST.TOO_DEEP', async () => {
    const form = await ask(
      'POST',
      '/entity-events',
      { ...auth('app', ['ingest']), 'content-type': 'text/csv' },
      'id,kind',
    );
    expect(form.status).toBe(415);
    expect(JSON.parse(form.text).error).toEqual({
      code: 'REQUEST.UNSUPPORTED_MEDIA_TYPE',
      message: 'This operation does not accept text/csv; send one of: application/json',
      details: { accepted: ['application/json'] },
    });
    const deep = await ask(
      'POST',
      '/entity-events',
      { ...auth('app', ['ingest']), 'content-type': 'application/json' },
      '['.repeat(100) + ']'.repeat(100),
    );
    expect(deep.status).toBe(400);
    expect(JSON.parse(deep.text).error.code).toBe('REQUEST.TOO_DEEP');
  });
});
