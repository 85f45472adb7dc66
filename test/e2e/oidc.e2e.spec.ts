import { KeyObject, sign } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';
import { FakeClock } from '@lifeline/engine';
import { startLifeline, type RunningLifeline } from '@lifeline/testing';

const ISSUER = 'https://idp.example.test/realms/lifeline';
const AUDIENCE = 'lifeline-api';

interface SigningKey {
  kid: string;
  alg: 'RS256' | 'ES256';
  privateKey: CryptoKey;
  jwk: JWK;
}

async function signingKey(kid: string, alg: 'RS256' | 'ES256'): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  return { kid, alg, privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' } };
}

/** A local identity provider's JWKS endpoint: publishes what the test says, and counts the fetches. */
class JwksServer {
  published: SigningKey[] = [];
  fetches = 0;
  private constructor(private readonly server: Server) {}
  static async start(): Promise<JwksServer> {
    const jwks: JwksServer = new JwksServer(
      createServer((request, response) => {
        if (request.url !== '/jwks') return void response.writeHead(404).end();
        jwks.fetches++;
        response.writeHead(200, { 'content-type': 'application/json' });
        response.end(JSON.stringify({ keys: jwks.published.map((key) => key.jwk) }));
      }),
    );
    await new Promise<void>((resolve) => jwks.server.listen(0, '127.0.0.1', resolve));
    return jwks;
  }
  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/jwks`;
  }
  stop(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

describe('OIDC: identity-provider tokens checked against a JWKS that rotates its keys', () => {
  let idp: JwksServer;
  let lifeline: RunningLifeline;
  let authClock: FakeClock;
  let first: SigningKey;
  let second: SigningKey;

  beforeAll(async () => {
    idp = await JwksServer.start();
    first = await signingKey('key-1', 'RS256');
    second = await signingKey('key-2', 'ES256');
    idp.published = [first];
    authClock = new FakeClock(new Date());
    lifeline = await startLifeline({
      demo: false,
      authClock,
      env: {
        LIFELINE_OIDC_ISSUER: ISSUER,
        LIFELINE_OIDC_AUDIENCE: AUDIENCE,
        LIFELINE_OIDC_JWKS_URL: idp.url,
        LIFELINE_OIDC_ROLES_CLAIM: 'realm_access.roles',
        LIFELINE_OIDC_JWKS_MAX_AGE: '300',
        LIFELINE_OIDC_JWKS_COOLDOWN: '10',
      },
    });
  });
  afterAll(async () => {
    await lifeline?.stop();
    await idp?.stop();
  });

  const now = () => Math.floor(authClock.now().getTime() / 1000);
  const token = (key: SigningKey, claims: Record<string, unknown> = {}, issuer = ISSUER, audience = AUDIENCE) =>
    new SignJWT({ realm_access: { roles: ['accounting', 'auditor'] }, ...claims })
      .setProtectedHeader({ alg: key.alg, kid: key.kid })
      .setSubject('kim')
      .setIssuer(issuer)
      .setAudience(audience)
      .setIssuedAt(now())
      .setExpirationTime(now() + 3600)
      .sign(key.privateKey);
  const me = async (jwt: string) => {
    const answer = await lifeline.call(jwt, 'GET', '/auth/me');
    return answer.status === 200 ? answer.body : { status: answer.status, code: answer.body.error?.code };
  };

  it('follows a key rotation: both keys work while published, a withdrawn key is refused', async () => {
    const kim = { id: 'kim', roles: ['accounting', 'auditor'], admin: false };
    expect(await me(await token(first))).toEqual(kim);
    expect(idp.fetches).toBe(1);

    // The provider adds a second key (another algorithm) and signs with it: the unknown kid fetches again.
    idp.published = [first, second];
    authClock.advance(11_000);
    expect(await me(await token(second))).toEqual(kim);
    expect(await me(await token(first))).toEqual(kim);
    expect(idp.fetches).toBe(2);

    // The first key is withdrawn: once the cached set ages out, its tokens are refused; the second works.
    idp.published = [second];
    const old = await token(first);
    expect(await me(old)).toEqual(kim);
    authClock.advance(300_000);
    expect(await me(old)).toEqual({ status: 401, code: 'AUTH.INVALID_TOKEN' });
    expect(await me(await token(second))).toEqual(kim);
    expect(idp.fetches).toBe(3);
  });

  it('refuses a wrong issuer or audience with 401', async () => {
    expect(await me(await token(second, {}, 'https://elsewhere.example.test'))).toEqual({
      status: 401,
      code: 'AUTH.INVALID_TOKEN',
    });
    expect(await me(await token(second, {}, ISSUER, 'another-api'))).toEqual({
      status: 401,
      code: 'AUTH.INVALID_TOKEN',
    });
  });

  it('keeps the rules of every token: exp required, the lifetime cap, reserved subjects, crit', async () => {
    const bare = (claims: Record<string, unknown>, header: Record<string, unknown> = {}) =>
      new SignJWT({ realm_access: { roles: ['admin'] }, ...claims })
        .setProtectedHeader({ alg: second.alg, kid: second.kid, ...header })
        .setIssuer(ISSUER)
        .setAudience(AUDIENCE)
        .sign(second.privateKey);
    const refused = { status: 401, code: 'AUTH.INVALID_TOKEN' };
    expect(await me(await bare({ sub: 'kim', iat: now() }))).toEqual(refused);
    expect(await me(await bare({ sub: 'kim', iat: now(), exp: now() + 30 * 86400 }))).toEqual(refused);
    expect(await me(await bare({ sub: 'system', iat: now(), exp: now() + 600 }))).toEqual(refused);
    expect(await me(await bare({ sub: 'kim', iat: now(), exp: now() - 10 }))).toEqual({
      status: 401,
      code: 'AUTH.EXPIRED_TOKEN',
    });
    // jose will not sign an unknown crit: the token is put together by hand, with a valid signature.
    const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const input = `${part({ alg: 'ES256', kid: second.kid, crit: ['x-ext'], 'x-ext': 1 })}.${part({ sub: 'kim', iss: ISSUER, aud: AUDIENCE, iat: now(), exp: now() + 600 })}`;
    const signature = sign('sha256', Buffer.from(input), {
      key: KeyObject.from(second.privateKey),
      dsaEncoding: 'ieee-p1363',
    });
    expect(await me(`${input}.${signature.toString('base64url')}`)).toEqual(refused);
    // The roles come from the configured claim path only: a top-level `roles` grants nothing.
    expect(
      await me(await bare({ sub: 'kim', iat: now(), exp: now() + 600, realm_access: {}, roles: ['admin'] })),
    ).toEqual({ id: 'kim', roles: [], admin: false });
    expect(await me(await bare({ sub: 'kim', iat: now(), exp: now() + 600 }))).toEqual({
      id: 'kim',
      roles: ['admin'],
      admin: true,
    });
  });

  it('still takes HS256 tokens of the configured secret', async () => {
    expect(await me(lifeline.tokens.bob!)).toEqual({ id: 'bob', roles: ['accounting'], admin: false });
  });
});
