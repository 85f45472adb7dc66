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

interface Access {
  public: boolean;
  roles: string[] | undefined;
}

@Injectable()
export class AuthGuard implements CanActivate {
  /** By controller class and handler: decorators are fixed once the classes are loaded, so each is read once. */
  private readonly access = new WeakMap<object, WeakMap<object, Access>>();

  constructor(
    private readonly verifier: TokenVerifier,
    private readonly reflector: Reflector,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const { public: open, roles } = this.accessOf(context);
    if (open) return true;
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const caller = await this.verifier.verify(request.headers.authorization);
    request.caller = caller;
    if (roles && !caller.admin && !roles.some((r) => caller.roles.includes(r))) {
      throw new Forbidden(
        `This needs one of the roles: ${['admin', ...roles.filter((r) => r !== 'admin')].join(', ')}`,
      );
    }
    return true;
  }

  private accessOf(context: ExecutionContext): Access {
    const [handler, controller] = [context.getHandler(), context.getClass()];
    let handlers = this.access.get(controller);
    if (handlers === undefined) this.access.set(controller, (handlers = new WeakMap()));
    let access = handlers.get(handler);
    if (access === undefined) {
      const targets = [handler, controller];
      access = {
        public: Boolean(this.reflector.getAllAndOverride<boolean>(PUBLIC, targets)),
        roles: this.reflector.getAllAndOverride<string[] | undefined>(ROLES, targets),
      };
      handlers.set(handler, access);
    }
    return access;
  }
}

export const CurrentCaller = createParamDecorator((_data: unknown, context: ExecutionContext): Caller => {
  const caller = context.switchToHttp().getRequest<AuthenticatedRequest>().caller;
  if (!caller) throw new AuthError('AUTH.MISSING_TOKEN', 'Send Authorization: Bearer <token>');
  return caller;
});
