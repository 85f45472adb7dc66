import { Controller, Get, Query, Req, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiProduces, ApiQuery, ApiResponse, ApiSecurity, ApiTags } from '@nestjs/swagger';
import { ApiErrors } from '../http/openapi';
import type { Request, Response } from 'express';
import { Public } from '../auth/auth.guard';
import { TokenVerifier } from '../auth/jwt';
import { QueryBus } from '@nestjs/cqrs';
import { ReadPositionQuery } from '../health/health.queries';

/**
 * Server-sent events: `position` each time the read models move, so a Taskbox refetches with
 * `?minPosition=` instead of polling blindly. EventSource cannot send headers, so the token may
 * come as `?access_token=`. The stream ends with `event: expired` when the token expires.
 */
@ApiTags('live')
@Controller('live')
export class LiveController {
  constructor(
    private readonly queries: QueryBus,
    private readonly verifier: TokenVerifier,
  ) {}

  @Get()
  @Public()
  @ApiOperation({ summary: 'Server-sent events: {position} whenever the read models advance' })
  @ApiBearerAuth()
  @ApiSecurity('access_token')
  @ApiQuery({
    name: 'access_token',
    required: false,
    description: 'the bearer token, for EventSource',
    schema: { type: 'string' },
  })
  @ApiProduces('text/event-stream')
  @ApiResponse({
    status: 200,
    description:
      '`event: position` with `data: {position}`, until the client leaves or the token expires (then `event: expired` and the stream ends)',
    content: { 'text/event-stream': { schema: { type: 'string' } } },
  })
  @ApiErrors(401)
  async stream(
    @Req() request: Request,
    @Res() response: Response,
    @Query('access_token') token?: string,
  ): Promise<void> {
    const { expiresAt } = await this.verifier.verifyToken(
      request.headers.authorization ?? (token ? `Bearer ${token}` : undefined),
    );
    const expired = () => this.verifier.clock.now().getTime() >= expiresAt;
    response.status(200).set({
      'content-type': 'text/event-stream',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    response.flushHeaders();
    let last = -1;
    const send = (position: number) => {
      if (position === last) return;
      last = position;
      response.write(`event: position\ndata: ${JSON.stringify({ position })}\n\n`);
    };
    const position = () => this.queries.execute(new ReadPositionQuery());
    send(await position());
    const stop = () => {
      clearInterval(timer);
      clearInterval(keepAlive);
    };
    // Coalesce bursts: at most ten notifications a second per client. Each tick also asks the
    // verifier's clock whether the token expired: a stream lives no longer than its token.
    const timer = setInterval(() => {
      if (!expired()) return void position().then(send);
      stop();
      response.end('event: expired\ndata: {}\n\n');
    }, 100);
    const keepAlive = setInterval(() => response.write(': keep-alive\n\n'), 15_000);
    request.on('close', stop);
  }
}
