import { Controller, Get, Header, Res } from '@nestjs/common';
import type { Response } from 'express';
import { ApiOperation, ApiProduces, ApiResponse, ApiTags } from '@nestjs/swagger';
import { ApiAnswer, refTo } from '../http/openapi';
import { HEALTH, LIVENESS, READINESS } from '../http/answers';
import { QueryBus } from '@nestjs/cqrs';
import { Public } from '../auth/auth.guard';
import { HealthQuery, ReadinessQuery } from './health.queries';
import { Metrics } from './metrics';

@ApiTags('operations')
@Controller()
export class HealthController {
  constructor(
    private readonly queries: QueryBus,
    private readonly metrics: Metrics,
  ) {}

  @Get('health')
  @Public()
  @ApiOperation({
    summary: "Liveness and progress: the log's head, the read models' and the reactions' positions",
  })
  @ApiAnswer(200, HEALTH)
  health() {
    return this.queries.execute(new HealthQuery());
  }

  @Get('health/live')
  @Public()
  @ApiOperation({ summary: 'Liveness: the process answers (restart it when this fails)' })
  @ApiAnswer(200, LIVENESS)
  live() {
    return { ok: true };
  }

  @Get('health/ready')
  @Public()
  @ApiOperation({
    summary:
      'Readiness: the store answers, the reactions run and no Kafka partition is stuck (503 otherwise: send no traffic)',
  })
  @ApiAnswer(200, READINESS)
  @ApiResponse({ status: 503, description: 'Not ready: what is not', schema: refTo(READINESS) })
  async ready(@Res({ passthrough: true }) response: Response) {
    const readiness = await this.queries.execute(new ReadinessQuery());
    if (!readiness.ok) response.status(503);
    return readiness;
  }

  @Get('metrics')
  @Public()
  @Header('content-type', 'text/plain; version=0.0.4; charset=utf-8')
  @ApiOperation({ summary: 'Metrics in the Prometheus text format, with HELP and TYPE' })
  @ApiProduces('text/plain')
  @ApiResponse({
    status: 200,
    description: 'Prometheus text',
    content: { 'text/plain': { schema: { type: 'string' } } },
  })
  prometheus(): Promise<string> {
    return this.metrics.text();
  }
}
