import jwt from 'jsonwebtoken';
import { FakeClock } from '@lifeline/engine';
import { AuthError, signToken, TokenVerifier, VERIFIED_TOKENS_KEPT } from './jwt';

const SECRET = 'unit-secret-0123456789abcdef0123456789';
const NOW = Math.floor(Date.parse('2026-11-21T10:00:00Z') / 1000);
const HOUR = 3600;
const DAY = 24 * HOUR;

describe('TokenVerifier', () => {
  const clock = new FakeClock('2026-11-21T10:00:00Z');
  const verifier = new TokenVerifier(SECRET, { clock });
  /** Signs exactly these claims: jsonwebtoken adds an iat unless told not to (and then drops a given one). */
  const sign = (claims: object, header: object = {}) =>
    jwt.sign(claims, SECRET, {
      algorithm: 'HS256',
      noTimestamp: !('iat' in claims),
      header: { alg: 'HS256', ...header },
    });
  /** The code and message of the refusal, or 'accepted'. */
  const outcome = async (token: string, v = verifier) => {
    try {
      await v.verify(`Bearer ${token}`);
      return 'accepted';
    } catch (error) {
      if (!(error instanceof AuthError)) throw error;
      return `${error.code}: ${error.message}`;
    }
  };

  it('accepts a token within the 24 h default and says when it expires', async () => {
    const token = sign({ sub: 'bob', roles: ['accounting'], iat: NOW, exp: NOW + DAY });
    expect(await verifier.verifyToken(`Bearer ${token}`)).toEqual({
      caller: { id: 'bob', roles: ['accounting'], admin: false },
      expiresAt: (NOW + DAY) * 1000,
    });
  });

  it('refuses a token without exp', async () => {
    expect(await outcome(sign({ sub: 'bob', roles: [], iat: NOW }))).toBe(
      'AUTH.INVALID_TOKEN: The token has no expiry (exp)',
    );
  });

  it.each([
    ['30 days from iat (the old default)', { iat: NOW, exp: NOW + 30 * DAY }],
    ['a minute over the cap', { iat: NOW, exp: NOW + DAY + 60 }],
    ['decades away without iat', { exp: NOW + 30 * 365 * DAY }],
    ['two days away without iat', { exp: NOW + 2 * DAY }],
    ['an hour long, but issued ten years ahead', { iat: NOW + 3650 * DAY, exp: NOW + 3650 * DAY + HOUR }],
  ])('refuses a token living longer than the cap: %s', async (_name, times) => {
    expect(await outcome(sign({ sub: 'bob', roles: [], ...times }))).toBe(
      'AUTH.INVALID_TOKEN: The token lives longer than the 86400 s this server allows (LIFELINE_TOKEN_MAX_LIFETIME)',
    );
  });

  it('accepts a token without iat that expires within the cap', async () => {
    expect(await outcome(sign({ sub: 'bob', roles: [], exp: NOW + HOUR }))).toBe('accepted');
  });

  it('applies a configured cap', async () => {
    const strict = new TokenVerifier(SECRET, { clock, maxLifetimeSeconds: HOUR });
    expect(await outcome(sign({ sub: 'bob', iat: NOW, exp: NOW + HOUR }), strict)).toBe('accepted');
    expect(await outcome(sign({ sub: 'bob', iat: NOW, exp: NOW + 2 * HOUR }), strict)).toMatch(
      /lives longer than the 3600 s/,
    );
  });

  it('checks expiry against its clock', async () => {
    const later = new FakeClock('2026-11-21T10:00:00Z');
    const v = new TokenVerifier(SECRET, { clock: later });
    const token = sign({ sub: 'bob', iat: NOW, exp: NOW + 2 });
    expect(await outcome(token, v)).toBe('accepted');
    later.advance(2000);
    expect(await outcome(token, v)).toBe('AUTH.EXPIRED_TOKEN: The token has expired');
  });

  it('checks the signature of a token once, and its times on every request', async () => {
    const at = new FakeClock('2026-11-21T10:00:00Z');
    const v = new TokenVerifier(SECRET, { clock: at });
    const token = sign({ sub: 'bob', roles: ['accounting'], iat: NOW, nbf: NOW + 10, exp: NOW + 20 });
    const verify = jest.spyOn(jwt, 'verify');
    try {
      expect(await outcome(token, v)).toBe('AUTH.INVALID_TOKEN: The token is not valid');
      at.advance(10_000);
      expect(await outcome(token, v)).toBe('accepted');
      expect(await outcome(token, v)).toBe('accepted');
      expect(verify).toHaveBeenCalledTimes(2);
      // The same claims under another signature are not the remembered token.
      const [head, body] = token.split('.');
      expect(await outcome(`${head}.${body}.${'A'.repeat(43)}`, v)).toBe('AUTH.INVALID_TOKEN: The token is not valid');
      at.advance(10_000);
      expect(await outcome(token, v)).toBe('AUTH.EXPIRED_TOKEN: The token has expired');
    } finally {
      verify.mockRestore();
    }
  });

  it('keeps at most VERIFIED_TOKENS_KEPT tokens and still verifies those it let go', async () => {
    const v = new TokenVerifier(SECRET, { clock });
    const tokens = Array.from({ length: VERIFIED_TOKENS_KEPT + 5 }, (_, i) =>
      sign({ sub: `user-${i}`, iat: NOW, exp: NOW + HOUR }),
    );
    for (const token of tokens) expect(await outcome(token, v)).toBe('accepted');
    const verify = jest.spyOn(jwt, 'verify');
    try {
      expect((await v.verify(`Bearer ${tokens[0]}`)).id).toBe('user-0');
      expect((await v.verify(`Bearer ${tokens.at(-1)}`)).id).toBe(`user-${VERIFIED_TOKENS_KEPT + 4}`);
      // The first was let go (verified again), the last is remembered.
      expect(verify).toHaveBeenCalledTimes(1);
    } finally {
      verify.mockRestore();
    }
  });

  describe('what it remembers of a verified token cannot be used to pass another', () => {
    const at = new FakeClock('2026-11-21T10:00:00Z');
    const bobToken = () => sign({ sub: 'bob', roles: ['accounting'], iat: NOW, exp: NOW + HOUR });
    const claimsOf = (token: string) => JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as object;
    const withClaims = (token: string, claims: object) => {
      const [head, , signature] = token.split('.');
      return `${head}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${signature}`;
    };

    it('refuses a remembered signature under changed claims (roles, subject, expiry)', async () => {
      const v = new TokenVerifier(SECRET, { clock: at });
      const token = bobToken();
      expect(await outcome(token, v)).toBe('accepted');
      expect(await outcome(token, v)).toBe('accepted');
      for (const changed of [
        { ...claimsOf(token), roles: ['admin'] },
        { ...claimsOf(token), sub: 'alice' },
        { ...claimsOf(token), exp: NOW + 2 * HOUR },
      ]) {
        expect(await outcome(withClaims(token, changed), v)).toBe('AUTH.INVALID_TOKEN: The token is not valid');
      }
      expect((await v.verify(`Bearer ${token}`)).roles).toEqual(['accounting']);
    });

    it('refuses a token signed with another secret, and a new secret refuses tokens the old one remembered', async () => {
      const v = new TokenVerifier(SECRET, { clock: at });
      const token = bobToken();
      expect(await outcome(token, v)).toBe('accepted');
      const forged = jwt.sign(
        { sub: 'bob', roles: ['admin'], iat: NOW, exp: NOW + HOUR },
        'another-secret-0123456789abcdef',
        {
          algorithm: 'HS256',
        },
      );
      expect(await outcome(forged, v)).toBe('AUTH.INVALID_TOKEN: The token is not valid');
      // A rotated secret is a new verifier: nothing the old one remembered passes it.
      const rotated = new TokenVerifier('rotated-secret-0123456789abcdef012345', { clock: at });
      expect(await outcome(token, rotated)).toBe('AUTH.INVALID_TOKEN: The token is not valid');
      expect(await outcome(token, rotated)).toBe('AUTH.INVALID_TOKEN: The token is not valid');
    });

    it('answers each remembered token with its own caller', async () => {
      const v = new TokenVerifier(SECRET, { clock: at });
      const bob = bobToken();
      const carol = sign({ sub: 'carol', roles: ['support', 'admin'], iat: NOW, exp: NOW + HOUR });
      for (let i = 0; i < 3; i += 1) {
        expect(await v.verify(`Bearer ${bob}`)).toEqual({ id: 'bob', roles: ['accounting'], admin: false });
        expect(await v.verify(`Bearer ${carol}`)).toEqual({ id: 'carol', roles: ['support', 'admin'], admin: true });
      }
    });

    it('remembers nothing of a refused token: it is refused again once its signature would hold', async () => {
      const v = new TokenVerifier(SECRET, { clock: at, maxLifetimeSeconds: HOUR });
      const tooLong = sign({ sub: 'bob', roles: [], iat: NOW, exp: NOW + 2 * HOUR });
      expect(await outcome(tooLong, v)).toMatch(/lives longer than the 3600 s/);
      const verify = jest.spyOn(jwt, 'verify');
      try {
        expect(await outcome(tooLong, v)).toMatch(/lives longer than the 3600 s/);
        expect(verify).toHaveBeenCalledTimes(1);
      } finally {
        verify.mockRestore();
      }
    });

    it('refuses a remembered token from the second it expires', async () => {
      const later = new FakeClock('2026-11-21T10:00:00Z');
      const v = new TokenVerifier(SECRET, { clock: later });
      const token = sign({ sub: 'bob', roles: [], exp: NOW + HOUR });
      expect(await outcome(token, v)).toBe('accepted');
      later.advance(HOUR * 1000 - 1000);
      expect(await outcome(token, v)).toBe('accepted');
      later.advance(1000);
      expect(await outcome(token, v)).toBe('AUTH.EXPIRED_TOKEN: The token has expired');
      expect(await outcome(token, v)).toBe('AUTH.EXPIRED_TOKEN: The token has expired');
    });
  });

  it('refuses a token naming critical header extensions, known or not', async () => {
    const claims = { sub: 'bob', iat: NOW, exp: NOW + HOUR };
    expect(await outcome(sign(claims, { crit: ['x-unknown'], 'x-unknown': true }))).toBe(
      'AUTH.INVALID_TOKEN: The token names critical header extensions (crit) this server does not implement',
    );
    expect(await outcome(sign(claims, { crit: ['b64'], b64: true }))).toMatch(/^AUTH.INVALID_TOKEN: .*crit/);
    expect(await outcome(sign(claims))).toBe('accepted');
  });

  it.each([
    [
      'the engine',
      'system',
      'AUTH.INVALID_TOKEN: The token\'s subject is refused: "system" is reserved for the engine',
    ],
    ['the engine, cased', 'System', expect.stringContaining('reserved for the engine')],
    ['a right-to-left override', 'bob\u202e', expect.stringContaining('bidi-override')],
    ['a control character', 'bob\u0000', expect.stringContaining('control')],
    ['a blank', '   ', "AUTH.INVALID_TOKEN: The token's subject is refused: a user id must be a non-blank string"],
    ['an edge blank', 'bob ', expect.stringContaining('blanks')],
    ['nothing', '', 'AUTH.INVALID_TOKEN: The token has no subject'],
  ])('refuses a subject that is %s', async (_name, sub, expected) => {
    expect(await outcome(sign({ sub, roles: ['admin'], iat: NOW, exp: NOW + HOUR }))).toEqual(expected);
  });

  it('grants admin rights for the admin role only', async () => {
    const caller = (roles: string[]) =>
      verifier.verify(`Bearer ${sign({ sub: 'eve', roles, iat: NOW, exp: NOW + HOUR })}`);
    expect((await caller(['admin'])).admin).toBe(true);
    expect((await caller(['system'])).admin).toBe(false);
    expect((await caller([])).admin).toBe(false);
  });
});

describe('signToken', () => {
  it('signs for 24 h by default, or the lifetime given', async () => {
    const claims = (token: string) => jwt.decode(token) as { iat: number; exp: number };
    const daily = claims(signToken(SECRET, 'bob', ['accounting']));
    expect(daily.exp - daily.iat).toBe(DAY);
    const short = claims(signToken(SECRET, 'bob', ['accounting'], 600));
    expect(short.exp - short.iat).toBe(600);
  });

  it('refuses to sign for the engine or an id hiding characters', async () => {
    expect(() => signToken(SECRET, 'system', [])).toThrow('"system" is reserved for the engine');
    expect(() => signToken(SECRET, 'bob\u202e', [])).toThrow(/bidi-override/);
  });
});
