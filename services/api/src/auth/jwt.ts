import jwt from 'jsonwebtoken';
import { createSecretKey, randomBytes, type KeyObject } from 'node:crypto';
import { userIdProblem } from '@lifeline/process-domain';
// The engine's config and clock files, not its index: the CLI signs tokens without loading the engine.
import { SystemClock, type Clock } from '../../../engine/src/shared/clock';
import { DEFAULT_TOKEN_MAX_LIFETIME_SECONDS } from '../../../engine/src/shared/config';

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

/**
 * HS256 only: a token signed with another algorithm, or `alg: none`, is refused. A token must carry
 * `exp`, live at most `maxLifetimeSeconds`, name no critical extension (`crit`: we implement none)
 * and have a user id as `sub` (never the engine's own name).
 */
export class TokenVerifier {
  /** Built once: handing jsonwebtoken the string makes it build a key object on every request. */
  private readonly key: KeyObject;
  readonly maxLifetimeSeconds: number;
  readonly clock: Clock;

  constructor(secret: string, options: { maxLifetimeSeconds?: number; clock?: Clock } = {}) {
    this.key = createSecretKey(Buffer.from(secret, 'utf8'));
    this.maxLifetimeSeconds = options.maxLifetimeSeconds ?? DEFAULT_TOKEN_MAX_LIFETIME_SECONDS;
    this.clock = options.clock ?? new SystemClock();
  }

  verify(header: string | undefined): Caller {
    return this.verifyToken(header).caller;
  }

  verifyToken(header: string | undefined): VerifiedToken {
    if (!header) throw new AuthError('AUTH.MISSING_TOKEN', 'Send Authorization: Bearer <token>');
    const match = /^Bearer ([A-Za-z0-9_.-]+)$/.exec(header.trim());
    if (!match) throw new AuthError('AUTH.INVALID_TOKEN', 'Authorization must be "Bearer <token>"');
    const now = Math.floor(this.clock.now().getTime() / 1000);
    let decoded: jwt.Jwt;
    try {
      decoded = jwt.verify(match[1], this.key, { algorithms: ['HS256'], complete: true, clockTimestamp: now });
    } catch (error) {
      if (error instanceof jwt.TokenExpiredError) throw new AuthError('AUTH.EXPIRED_TOKEN', 'The token has expired');
      throw new AuthError('AUTH.INVALID_TOKEN', 'The token is not valid');
    }
    if ((decoded.header as { crit?: unknown }).crit !== undefined) {
      throw new AuthError(
        'AUTH.INVALID_TOKEN',
        'The token names critical header extensions (crit) this server does not implement',
      );
    }
    const claims = decoded.payload;
    if (typeof claims === 'string') throw new AuthError('AUTH.INVALID_TOKEN', 'The token has no claims');
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
    const roles = Array.isArray(claims.roles)
      ? claims.roles.filter((r): r is string => typeof r === 'string' && ROLE.test(r))
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
