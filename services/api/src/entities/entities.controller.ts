import { Controller, Get, Param, Query } from '@nestjs/common';
import { ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { QueryBus } from '@nestjs/cqrs';
import { z } from 'zod';
import { ENTITY_TYPE } from '@lifeline/process-domain';
import { CurrentCaller } from '../auth/auth.guard';
import type { Caller } from '../auth/jwt';
import { RequestInvalid } from '../http/api-errors';
import { ApiAnswer, ApiErrors, ApiQueryOf, Authenticated, codePoints, minPosition, PATTERNS } from '../http/openapi';
import { ENTITY_TIMELINE } from '../http/answers';
import { RecordTimelineQuery } from './entities.queries';

const INTEGER = /^-?[0-9]{1,15}$/;

/** Checked in the controller, to answer QUERY.INVALID. */
const TIMELINE_QUERY = z.object({
  minPosition,
  after: z
    .int()
    .min(-999_999_999_999_999)
    .max(999_999_999_999_999)
    .optional()
    .meta({ description: 'only entries after this global position' }),
  limit: z.int().min(1).max(1000).optional(),
});

@ApiTags('entities')
@Authenticated()
@Controller('entities')
export class EntitiesController {
  constructor(private readonly queries: QueryBus) {}

  @Get(':type/:id/timeline')
  @ApiOperation({ summary: 'Every recorded event, process, task and decision about one record, in order' })
  @ApiParam({ name: 'type', description: 'the record type', schema: { type: 'string', pattern: PATTERNS.entityType } })
  @ApiParam({ name: 'id', description: 'the record id', schema: { type: 'string', minLength: 1, maxLength: 200 } })
  @ApiQueryOf(TIMELINE_QUERY)
  @ApiAnswer(200, ENTITY_TIMELINE)
  @ApiErrors(400, 404, 503)
  timeline(
    @Param('type') type: string,
    @Param('id') id: string,
    @CurrentCaller() caller: Caller,
    @Query('minPosition') minPosition?: string,
    @Query('after') after?: string,
    @Query('limit') limit?: string,
  ) {
    if (!ENTITY_TYPE.test(type) || codePoints(id) > 200) {
      throw new RequestInvalid('ENTITY.INVALID_REF', 'The record type or id is not valid');
    }
    if (
      (after !== undefined && !(typeof after === 'string' && INTEGER.test(after))) ||
      (limit !== undefined && !(typeof limit === 'string' && INTEGER.test(limit)))
    ) {
      throw new RequestInvalid('QUERY.INVALID', 'after must be an integer and limit 1..1000');
    }
    const afterPosition = after === undefined ? undefined : Number(after);
    const pageSize = limit === undefined ? undefined : Number(limit);
    if (
      (afterPosition !== undefined && !Number.isSafeInteger(afterPosition)) ||
      (pageSize !== undefined && !(Number.isInteger(pageSize) && pageSize > 0 && pageSize <= 1000))
    ) {
      throw new RequestInvalid('QUERY.INVALID', 'after must be an integer and limit 1..1000');
    }
    return this.queries.execute(
      new RecordTimelineQuery({ type, id }, caller, { afterPosition, limit: pageSize }, minPosition),
    );
  }
}
