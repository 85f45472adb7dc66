import { createLocalJWKSet, errors, jwtVerify, type JSONWebKeySet, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import type { Clock, OidcConfig } from '@lifeline/engine';

/** Asymmetric algorithms an identity provider signs with; HS256 stays for the embedded default's secret. */
export const OIDC_ALGORITHMS = ['RS256', 'ES256'] as const;

/** A token the identity provider's keys do not verify, or whose issuer or audience is not ours. */
export class OidcTokenRefused extends Error {
  constructor(
    message: string,
    readonly expired = false,
  ) {
    super(message);
  }
}

/** What a fetch of the key set needs (a test may hand another fetch). */
type Fetch = (
  url: string,
  init: { signal: AbortSignal },
) => Promise<{ ok: boolean; status: number; json(): Promise<unknown> }>;

/**
 * The identity provider's key set, fetched from its JWKS URL and kept `maxAgeMs` on the auth clock;
 * a token naming a key not in it fetches again (at most once per `cooldownMs`), so a rotation is
 * followed at once and a withdrawn key stops working when the cached set ages out.
 */
export class JwksCache {
  private keys: JWTVerifyGetKey | undefined;
  private kids = new Set<string>();
  private fetchedAt = Number.NEGATIVE_INFINITY;
  private inflight: Promise<void> | undefined;

  constructor(
    private readonly url: () => Promise<string>,
    private readonly clock: Clock,
    private readonly maxAgeMs: number,
    private readonly cooldownMs: number,
    private readonly fetcher: Fetch = fetch,
  ) {}

  /** The key set to verify a token naming `kid` with: refreshed when stale, or when it lacks that key. */
  async forKey(kid: string | undefined): Promise<JWTVerifyGetKey> {
    const age = this.clock.now().getTime() - this.fetchedAt;
    const unknownKid = kid !== undefined && !this.kids.has(kid);
    if (this.keys === undefined || age >= this.maxAgeMs || (unknownKid && age >= this.cooldownMs)) {
      await this.refresh().catch((error: unknown) => {
        // Keys fetched earlier stay in use while the provider is unreachable; none at all: refused.
        if (this.keys === undefined)
          throw new OidcTokenRefused(`The identity provider's keys could not be fetched: ${String(error)}`);
      });
    }
    return this.keys!;
  }

  private refresh(): Promise<void> {
    this.inflight ??= this.load().finally(() => (this.inflight = undefined));
    return this.inflight;
  }

  private async load(): Promise<void> {
    const url = await this.url();
    const response = await this.fetcher(url, { signal: AbortSignal.timeout(5_000) });
    if (!response.ok) throw new Error(`GET ${url} answered ${response.status}`);
    const body = (await response.json()) as JSONWebKeySet;
    if (!body || !Array.isArray(body.keys)) throw new Error(`${url} is not a JWK set`);
    this.keys = createLocalJWKSet(body);
    this.kids = new Set(body.keys.map((key) => key.kid).filter((kid): kid is string => typeof kid === 'string'));
    this.fetchedAt = this.clock.now().getTime();
  }
}

/** The value at a dotted path (`realm_access.roles`) of the claims, or undefined. */
export function claimAt(claims: Record<string, unknown>, path: string): unknown {
  let value: unknown = claims;
  for (const part of path.split('.')) {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined;
    value = Object.prototype.hasOwnProperty.call(value, part) ? (value as Record<string, unknown>)[part] : undefined;
  }
  return value;
}

/**
 * Tokens of an identity provider (OpenID Connect): RS256 or ES256, verified against its JWKS, with
 * its issuer and our audience. The claims go through the same rules as HS256 tokens afterwards.
 */
export class OidcVerifier {
  private readonly jwks: JwksCache;

  constructor(
    readonly config: OidcConfig,
    private readonly clock: Clock,
    fetcher: Fetch = fetch,
  ) {
    let discovered: Promise<string> | undefined;
    const jwksUrl = () =>
      config.jwksUrl !== undefined
        ? Promise.resolve(config.jwksUrl)
        : (discovered ??= discover(config.issuer, fetcher).catch((error: unknown) => {
            discovered = undefined;
            throw error;
          }));
    this.jwks = new JwksCache(jwksUrl, clock, config.jwksMaxAgeMs, config.jwksCooldownMs, fetcher);
  }

  async verify(token: string, kid: string | undefined): Promise<JWTPayload> {
    const keys = await this.jwks.forKey(kid);
    try {
      const { payload } = await jwtVerify(token, keys, {
        algorithms: [...OIDC_ALGORITHMS],
        issuer: this.config.issuer,
        audience: this.config.audience,
        currentDate: this.clock.now(),
      });
      return payload;
    } catch (error) {
      if (error instanceof errors.JWTExpired) throw new OidcTokenRefused('The token has expired', true);
      if (error instanceof errors.JWTClaimValidationFailed && (error.claim === 'iss' || error.claim === 'aud')) {
        throw new OidcTokenRefused(`The token's ${error.claim === 'iss' ? 'issuer' : 'audience'} is not accepted here`);
      }
      throw new OidcTokenRefused('The token is not valid');
    }
  }
}

/** The JWKS URL from the issuer's discovery document. */
async function discover(issuer: string, fetcher: Fetch): Promise<string> {
  const url = `${issuer.replace(/\/$/, '')}/.well-known/openid-configuration`;
  const response = await fetcher(url, { signal: AbortSignal.timeout(5_000) });
  if (!response.ok) throw new Error(`GET ${url} answered ${response.status}`);
  const body = (await response.json()) as { jwks_uri?: unknown };
  if (typeof body.jwks_uri !== 'string') throw new Error(`${url} names no jwks_uri`);
  return body.jwks_uri;
}
