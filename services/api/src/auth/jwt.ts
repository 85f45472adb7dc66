import jwt from 'jsonwebtoken';
import { createSecretKey, randomBytes, type KeyObject } from 'node:crypto';

/** Who calls: the token's `sub` and `roles`. */
export interface Caller {
  id: string;
  roles: string[];
  admin: boolean;
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

/** HS256 only: a token signed with another algorithm, or `alg: none`, is refused. */
export class TokenVerifier {
  /** Built once: handing jsonwebtoken the string makes it build a key object on every request. */
  private readonly key: KeyObject;

  constructor(secret: string) {
    this.key = createSecretKey(Buffer.from(secret, 'utf8'));
  }

  verify(header: string | undefined): Caller {
    if (!header) throw new AuthError('AUTH.MISSING_TOKEN', 'Send Authorization: Bearer <token>');
    const match = /^Bearer ([A-Za-z0-9_.-]+)$/.exec(header.trim());
    if (!match) throw new AuthError('AUTH.INVALID_TOKEN', 'Authorization must be "Bearer <token>"');
    let claims: jwt.JwtPayload | string;
    try {
      claims = jwt.verify(match[1], this.key, { algorithms: ['HS256'] });
    } catch (error) {
      if (error instanceof jwt.TokenExpiredError) throw new AuthError('AUTH.EXPIRED_TOKEN', 'The token has expired');
      throw new AuthError('AUTH.INVALID_TOKEN', 'The token is not valid');
    }
    if (
      typeof claims === 'string' ||
      typeof claims.sub !== 'string' ||
      claims.sub.length === 0 ||
      claims.sub.length > 200
    ) {
      throw new AuthError('AUTH.INVALID_TOKEN', 'The token has no subject');
    }
    const roles = Array.isArray(claims.roles)
      ? claims.roles.filter((r): r is string => typeof r === 'string' && ROLE.test(r))
      : [];
    return { id: claims.sub, roles, admin: roles.includes('admin') };
  }
}

export const signToken = (
  secret: string,
  sub: string,
  roles: string[],
  expiresIn: jwt.SignOptions['expiresIn'] = '30d',
): string => jwt.sign({ sub, roles }, secret, { algorithm: 'HS256', expiresIn });

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
