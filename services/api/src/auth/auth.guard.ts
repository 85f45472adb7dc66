import { CanActivate, ExecutionContext, Injectable, SetMetadata, createParamDecorator } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request } from 'express';
import { AuthError, TokenVerifier, type Caller } from './jwt';
import { Forbidden } from '../http/api-errors';

export const PUBLIC = 'lifeline:public';
export const ROLES = 'lifeline:roles';

/** No token needed (health, docs, web UI assets). */
export const Public = () => SetMetadata(PUBLIC, true);
/** One of these roles (admin always passes). */
export const RequireRoles = (...roles: string[]) => SetMetadata(ROLES, roles);

export type AuthenticatedRequest = Request & { caller?: Caller };

@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly verifier: TokenVerifier,
    private readonly reflector: Reflector,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(PUBLIC, targets)) return true;
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const caller = await this.verifier.verify(request.headers.authorization);
    request.caller = caller;
    const roles = this.reflector.getAllAndOverride<string[] | undefined>(ROLES, targets);
    if (roles && !caller.admin && !roles.some((r) => caller.roles.includes(r))) {
      throw new Forbidden(
        `This needs one of the roles: ${['admin', ...roles.filter((r) => r !== 'admin')].join(', ')}`,
      );
    }
    return true;
  }
}

export const CurrentCaller = createParamDecorator((_data: unknown, context: ExecutionContext): Caller => {
  const caller = context.switchToHttp().getRequest<AuthenticatedRequest>().caller;
  if (!caller) throw new AuthError('AUTH.MISSING_TOKEN', 'Send Authorization: Bearer <token>');
  return caller;
});
