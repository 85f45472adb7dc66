import { Controller, Get } from '@nestjs/common';
import { CurrentCaller } from './auth.guard';
import type { Caller } from './jwt';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiAnswer, ApiErrors, Authenticated } from '../http/openapi';
import { CALLER, DEMO_USERS } from '../http/answers';
import { Public } from './auth.guard';
import { NotFound } from '../http/api-errors';

export interface DemoUser {
  id: string;
  roles: string[];
  description: string;
  token: string;
}

/** Embedded mode with a development secret only: the sign-in picker's users, each call with fresh tokens. */
export class DemoUsers {
  constructor(readonly issue: (() => DemoUser[]) | undefined) {}
}

@ApiTags('auth')
@Controller('auth')
export class DemoUsersController {
  constructor(private readonly demo: DemoUsers) {}

  @Get('demo-users')
  @Public()
  @ApiOperation({ summary: 'Demo users with ready tokens (embedded mode with a development secret only)' })
  @ApiAnswer(200, DEMO_USERS, 'the demo users')
  @ApiErrors(404)
  list(): DemoUser[] {
    if (!this.demo.issue)
      throw new NotFound('AUTH.NO_DEMO_USERS', 'Demo users exist only in embedded mode with a development secret');
    // Issued now, so the picker never hands out a token that expired while the server ran.
    return this.demo.issue();
  }

  @Get('me')
  @ApiOperation({ summary: 'Who the token says you are' })
  @Authenticated()
  @ApiAnswer(200, CALLER)
  me(@CurrentCaller() caller: Caller): Caller {
    return caller;
  }
}
