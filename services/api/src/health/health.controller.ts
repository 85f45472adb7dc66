import { Controller, Get, Header } from '@nestjs/common';
import { ApiOperation, ApiProduces, ApiResponse, ApiTags } from '@nestjs/swagger';
import { ApiAnswer } from '../http/openapi';
import { EngineRuntime } from '@lifeline/engine';
import { Public } from '../auth/auth.guard';
import { ReadSide } from '../http/read-side';
import { Metrics } from './metrics';

@ApiTags('operations')
@Controller()
export class HealthController {
  constructor(
    private readonly engine: EngineRuntime,
    private readonly read: ReadSide,
    private readonly metrics: Metrics,
  ) {}

  @Get('health')
  @Public()
  @ApiOperation({
    summary: "Liveness and progress: the log's head, the read models' and the reactions' positions",
  })
  @ApiAnswer(200, 'Health')
  async health() {
    const head = await this.engine.store.headPosition();
    const { ok, reactions, kafka } = this.engine.health();
    return {
      ok,
      head,
      readModels: this.read.models.position(),
      reactions,
      ...(kafka ? { kafka } : {}),
      counters: this.metrics.snapshot(),
    };
  }

  @Get('metrics')
  @Public()
  @Header('content-type', 'text/plain; version=0.0.4')
  @ApiOperation({ summary: 'Counters in the Prometheus text format' })
  @ApiProduces('text/plain')
  @ApiResponse({
    status: 200,
    description: 'Prometheus text',
    content: { 'text/plain': { schema: { type: 'string' } } },
  })
  async prometheus(): Promise<string> {
    const lines = Object.entries(this.metrics.snapshot()).map(([k, v]) => `${k} ${v}`);
    lines.push(`lifeline_log_head_position ${await this.engine.store.headPosition()}`);
    lines.push(`lifeline_read_models_position ${this.read.models.position()}`);
    lines.push(`lifeline_reactions_position ${this.engine.reactions.position()}`);
    return lines.join('\n') + '\n';
  }
}
