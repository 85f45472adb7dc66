import { Body, Controller, HttpCode, Post, Req } from '@nestjs/common';
import type { Request } from 'express';
import { CommandBus } from '@nestjs/cqrs';
import { ApiBody, ApiOperation, ApiTags } from '@nestjs/swagger';
import { validateEnvelope, type ValidationIssue } from '@lifeline/process-domain';
import { RecordEntityEventsCommand, type RecordOutcome } from '@lifeline/engine';
import { CurrentCaller, RequireRoles } from '../auth/auth.guard';
import type { Caller } from '../auth/jwt';
import { RequestInvalid } from '../http/api-errors';
import { Metrics } from '../health/metrics';
import { traceparentOf } from '../http/origin';
import { ApiAnswer, ApiErrors, Authenticated, WithBody } from '../http/openapi';
import { RECORD_OUTCOME } from '../http/answers';

/** The most envelopes one request may carry. */
export const MAX_BATCH = 1000;

@ApiTags('entity events')
@Authenticated()
@Controller('entity-events')
export class RecordEntityEventsController {
  constructor(
    private readonly commands: CommandBus,
    private readonly metrics: Metrics,
  ) {}

  @Post()
  @HttpCode(202)
  @RequireRoles('ingest')
  @ApiOperation({ summary: 'Record one entity event envelope or an array of them (one transaction; all or nothing)' })
  @ApiBody({
    schema: {
      oneOf: [
        { $ref: '#/components/schemas/EntityEventEnvelope' },
        {
          type: 'array',
          minItems: 1,
          maxItems: MAX_BATCH,
          items: { $ref: '#/components/schemas/EntityEventEnvelope' },
        },
      ],
    },
  })
  @ApiAnswer(202, RECORD_OUTCOME, 'Recorded (or already recorded): the position of the last event')
  @ApiErrors(403, 409)
  @WithBody()
  async record(
    @Body() body: unknown,
    @CurrentCaller() caller: Caller,
    @Req() request: Request,
  ): Promise<RecordOutcome> {
    const items = Array.isArray(body) ? body : [body];
    if (items.length === 0) throw new RequestInvalid('ENTITY_EVENT.EMPTY_BATCH', 'Send at least one envelope');
    if (items.length > MAX_BATCH) {
      throw new RequestInvalid('ENTITY_EVENT.BATCH_TOO_LARGE', `At most ${MAX_BATCH} envelopes per request`);
    }
    const issues: ValidationIssue[] = [];
    const envelopes = items.flatMap((item, index) => {
      const result = validateEnvelope(item);
      if (result.ok) return [result.envelope];
      const prefix = Array.isArray(body) ? `[${index}]` : '';
      issues.push(
        ...result.issues.map((i) => ({
          path: prefix && i.path ? `${prefix}.${i.path}` : prefix || i.path,
          message: i.message,
        })),
      );
      return [];
    });
    if (issues.length > 0) {
      this.metrics.refused('http', items.length);
      throw new RequestInvalid(
        'ENTITY_EVENT.INVALID',
        `The entity event is invalid: ${issues.length} problem(s); nothing was recorded`,
        issues,
      );
    }
    const traceparent = traceparentOf(request);
    return this.commands.execute(
      new RecordEntityEventsCommand(
        envelopes.map((envelope) => ({ envelope, source: { kind: 'http' }, ...(traceparent ? { traceparent } : {}) })),
        caller.id,
      ),
    );
  }
}
