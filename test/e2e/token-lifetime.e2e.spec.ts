import jwt from 'jsonwebtoken';
import { FakeClock } from '@lifeline/engine';
import { startLifeline, TEST_SECRET, type RunningLifeline } from '@lifeline/testing';

/** Tokens are checked against a fake clock here, so expiry is a clock step, not a wait. */
describe('token lifetime: a stream lives no longer than its token; the cap is configurable', () => {
  let lifeline: RunningLifeline;
  let authClock: FakeClock;
  beforeAll(async () => {
    authClock = new FakeClock(new Date());
    lifeline = await startLifeline({ demo: false, authClock, env: { LIFELINE_TOKEN_MAX_LIFETIME: 'PT1H' } });
  });
  afterAll(async () => {
    await lifeline?.stop();
  });

  const now = () => Math.floor(authClock.now().getTime() / 1000);
  const token = (seconds: number) =>
    jwt.sign({ sub: 'bob', roles: ['accounting'], iat: now(), exp: now() + seconds }, TEST_SECRET, {
      algorithm: 'HS256',
    });

  it('ends a /live stream with `event: expired` when its token expires, and the token no longer works', async () => {
    const twoSeconds = token(2);
    const response = await fetch(`${lifeline.url}/live?access_token=${twoSeconds}`);
    expect(response.status).toBe(200);
    const reader = response.body!.getReader();
    const decoder = new TextDecoder();
    const first = decoder.decode((await reader.read()).value);
    expect(first).toMatch(/^event: position\ndata: \{"position":\d+\}\n\n/);
    expect((await lifeline.call(twoSeconds, 'GET', '/auth/me')).status).toBe(200);

    authClock.advance(2_000);
    let rest = '';
    const ended = (async () => {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return true;
        rest += decoder.decode(value);
      }
    })();
    // The stream checks the clock ten times a second; five seconds means it never ended.
    const timeout = new Promise<false>((resolve) => setTimeout(() => resolve(false), 5_000).unref());
    expect(await Promise.race([ended, timeout])).toBe(true);
    expect(rest.endsWith('event: expired\ndata: {}\n\n')).toBe(true);
    const after = await lifeline.call(twoSeconds, 'GET', '/auth/me');
    expect({ status: after.status, code: after.body.error.code }).toEqual({ status: 401, code: 'AUTH.EXPIRED_TOKEN' });
    const again = await fetch(`${lifeline.url}/live?access_token=${twoSeconds}`);
    expect(again.status).toBe(401);
  });

  it('applies LIFELINE_TOKEN_MAX_LIFETIME: an hour passes, two hours are refused with 401', async () => {
    expect((await lifeline.call(token(3600), 'GET', '/auth/me')).body).toEqual({
      id: 'bob',
      roles: ['accounting'],
      admin: false,
    });
    const long = await lifeline.call(token(7200), 'GET', '/auth/me');
    expect(long).toEqual({
      status: 401,
      body: {
        error: {
          code: 'AUTH.INVALID_TOKEN',
          message: 'The token lives longer than the 3600 s this server allows (LIFELINE_TOKEN_MAX_LIFETIME)',
        },
      },
    });
    const stream = await fetch(`${lifeline.url}/live?access_token=${token(7200)}`);
    expect(stream.status).toBe(401);
  });
});
