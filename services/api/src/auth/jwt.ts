import jwt, { type JwtPayload } from 'jsonwebtoken';
import { decodeProtectedHeader } from 'jose';
import { createSecretKey, randomBytes, type KeyObject } from 'node:crypto';
import { userIdProblem } from '@lifeline/process-domain';
// The engine's config and clock files, not its index: the CLI signs tokens without loading the engine.
import { SystemClock, type Clock, DEFAULT_TOKEN_MAX_LIFETIME_SECONDS, type OidcConfig } from '@lifeline/engine';
import { claimAt, OIDC_ALGORITHMS, OidcTokenRefused, OidcVerifier } from './oidc';

/** Who calls: the token's `sub` and `roles`. */
export interface Caller {
  id: string;
  roles: string[];
  admin: boolean;
}

/** A verified token: who calls, and until when (ms since the epoch) the token holds. */
export interface VerifiedToken {
  caller: Caller;
  expiresAt: number;
}

export class AuthError extends Error {
  constructor(
    readonly code: 'AUTH.MISSING_TOKEN' | 'AUTH.INVALID_TOKEN' | 'AUTH.EXPIRED_TOKEN',
    message: string,
  ) {
    super(message);
  }
}

const ROLE = /^[A-Za-z0-9_.:-]{1,100}$/;
/** How far the signer's clock may run ahead of ours before a fresh token looks too long-lived. */
export const CLOCK_SKEW_SECONDS = 60;
/** How many HS256 tokens whose signature held are remembered (a client sends the same token on every request). */
export const VERIFIED_TOKENS_KEPT = 1024;

/**
 * HS256 tokens signed with the configured secret, and, when an identity provider is configured, its
 * RS256/ES256 tokens (services/api/src/auth/oidc.ts); any other algorithm, or `alg: none`, is refused.
 * Both kinds follow the same rules: a token must carry `exp`, live at most `maxLifetimeSeconds`, name
 * no critical extension (`crit`: we implement none) and have a user id as `sub` (never the engine's).
 */
export class TokenVerifier {
  /** Built once: handing jsonwebtoken the string makes it build a key object on every request. */
  private readonly key: KeyObject;
  readonly maxLifetimeSeconds: number;
  readonly clock: Clock;
  private readonly oidc: OidcVerifier | undefined;
  /**
   * The claims of HS256 tokens whose signature and header already held, by token text: checking the
   * signature again is most of what a request's authentication costs. Time rules (nbf, exp, the
   * lifetime cap) are checked again on every request. Oldest first, at most VERIFIED_TOKENS_KEPT.
   */
  private readonly verified = new Map<string, JwtPayload>();

  constructor(secret: string, options: { maxLifetimeSeconds?: number; clock?: Clock; oidc?: OidcConfig } = {}) {
    this.key = createSecretKey(Buffer.from(secret, 'utf8'));
    this.maxLifetimeSeconds = options.maxLifetimeSeconds ?? DEFAULT_TOKEN_MAX_LIFETIME_SECONDS;
    this.clock = options.clock ?? new SystemClock();
    this.oidc = options.oidc ? new OidcVerifier(options.oidc, this.clock) : undefined;
  }

  async verify(header: string | undefined): Promise<Caller> {
    return (await this.verifyToken(header)).caller;
  }

  async verifyToken(header: string | undefined): Promise<VerifiedToken> {
    if (!header) throw new AuthError('AUTH.MISSING_TOKEN', 'Send Authorization: Bearer <token>');
    const match = /^Bearer ([A-Za-z0-9_.-]+)$/.exec(header.trim());
    if (!match) throw new AuthError('AUTH.INVALID_TOKEN', 'Authorization must be "Bearer <token>"');
    const token = match[1]!;
    const now = Math.floor(this.clock.now().getTime() / 1000);
    const known = this.verified.get(token);
    if (known !== undefined) {
      // What jsonwebtoken checks against the clock, as it checks it; the signature held when the token was first seen.
      if (typeof known.nbf === 'number' && known.nbf > now) {
        throw new AuthError('AUTH.INVALID_TOKEN', 'The token is not valid');
      }
      if (typeof known.exp === 'number' && now >= known.exp) {
        throw new AuthError('AUTH.EXPIRED_TOKEN', 'The token has expired');
      }
      return this.checked(known, now, known.roles);
    }
    let protectedHeader: { alg?: unknown; kid?: unknown; crit?: unknown };
    try {
      protectedHeader = decodeProtectedHeader(token);
    } catch {
      throw new AuthError('AUTH.INVALID_TOKEN', 'The token is not valid');
    }
    if (protectedHeader.crit !== undefined) {
      throw new AuthError(
        'AUTH.INVALID_TOKEN',
        'The token names critical header extensions (crit) this server does not implement',
      );
    }
    if (this.oidc && (OIDC_ALGORITHMS as readonly unknown[]).includes(protectedHeader.alg)) {
      let claims: JwtPayload;
      try {
        const kid = typeof protectedHeader.kid === 'string' ? protectedHeader.kid : undefined;
        claims = (await this.oidc.verify(token, kid)) as JwtPayload;
      } catch (error) {
        if (error instanceof OidcTokenRefused) {
          throw new AuthError(error.expired ? 'AUTH.EXPIRED_TOKEN' : 'AUTH.INVALID_TOKEN', error.message);
        }
        throw error;
      }
      return this.checked(claims, now, claimAt(claims, this.oidc.config.rolesClaim));
    }
    let decoded: jwt.Jwt;
    try {
      decoded = jwt.verify(token, this.key, { algorithms: ['HS256'], complete: true, clockTimestamp: now });
    } catch (error) {
      if (error instanceof jwt.TokenExpiredError) throw new AuthError('AUTH.EXPIRED_TOKEN', 'The token has expired');
      throw new AuthError('AUTH.INVALID_TOKEN', 'The token is not valid');
    }
    const claims = decoded.payload;
    if (typeof claims === 'string') throw new AuthError('AUTH.INVALID_TOKEN', 'The token has no claims');
    const verified = this.checked(claims, now, claims.roles);
    // Remembered only once every rule held: a refused token is checked in full each time it comes back.
    if (this.verified.size >= VERIFIED_TOKENS_KEPT) this.verified.delete(this.verified.keys().next().value!);
    this.verified.set(token, claims);
    return verified;
  }

  /** The rules every token keeps, whoever signed it: exp, the lifetime cap, the subject; then its roles. */
  private checked(claims: JwtPayload, now: number, rolesClaim: unknown): VerifiedToken {
    const { exp, iat } = claims;
    if (typeof exp !== 'number' || !Number.isFinite(exp)) {
      throw new AuthError('AUTH.INVALID_TOKEN', 'The token has no expiry (exp)');
    }
    if (iat !== undefined && (typeof iat !== 'number' || !Number.isFinite(iat))) {
      throw new AuthError('AUTH.INVALID_TOKEN', "The token's iat is not a time");
    }
    // exp − iat bounds what the signer meant; exp − now bounds a token without iat, or with an iat in the future.
    if (
      (iat !== undefined && exp - iat > this.maxLifetimeSeconds) ||
      exp - now > this.maxLifetimeSeconds + CLOCK_SKEW_SECONDS
    ) {
      throw new AuthError(
        'AUTH.INVALID_TOKEN',
        `The token lives longer than the ${this.maxLifetimeSeconds} s this server allows (LIFELINE_TOKEN_MAX_LIFETIME)`,
      );
    }
    if (typeof claims.sub !== 'string' || claims.sub.length === 0) {
      throw new AuthError('AUTH.INVALID_TOKEN', 'The token has no subject');
    }
    const problem = userIdProblem(claims.sub);
    if (problem) throw new AuthError('AUTH.INVALID_TOKEN', `The token's subject is refused: ${problem}`);
    const roles = Array.isArray(rolesClaim)
      ? rolesClaim.filter((r): r is string => typeof r === 'string' && ROLE.test(r))
      : [];
    return { caller: { id: claims.sub, roles, admin: roles.includes('admin') }, expiresAt: exp * 1000 };
  }
}

/** Signs an API token that lives `expiresInSeconds` (default: the default lifetime cap). */
export const signToken = (
  secret: string,
  sub: string,
  roles: string[],
  expiresInSeconds: number = DEFAULT_TOKEN_MAX_LIFETIME_SECONDS,
): string => {
  const problem = userIdProblem(sub);
  if (problem) throw new Error(`Cannot sign a token for this subject: ${problem}`);
  return jwt.sign({ sub, roles }, secret, { algorithm: 'HS256', expiresIn: expiresInSeconds });
};

export const generateSecret = (): string => randomBytes(32).toString('base64url');

/** The demo users of the embedded mode, one per kind of person in the walkthrough. */
export const DEMO_USERS: { id: string; roles: string[]; description: string }[] = [
  { id: 'admin', roles: ['admin'], description: 'manages definitions and instances' },
  { id: 'app', roles: ['ingest'], description: 'an application posting entity events' },
  { id: 'alice', roles: ['accounting'], description: 'accounting; owns invoices' },
  { id: 'bob', roles: ['accounting'], description: 'accounting' },
  { id: 'carol', roles: ['support'], description: 'customer support (complaints)' },
  { id: 'dave', roles: ['onboarding'], description: 'customer onboarding' },
];

/** Roles with an overview of every instance and record (need to know does not apply to them). */
export const OVERVIEW_ROLES = ['admin', 'auditor'] as const;
export const hasOverview = (caller: Caller): boolean =>
  caller.roles.some((r) => (OVERVIEW_ROLES as readonly string[]).includes(r));
