import { Controller, Get, Param, Query } from '@nestjs/common';
import { ApiOperation, ApiParam, ApiQuery, ApiTags } from '@nestjs/swagger';
import { QueryBus } from '@nestjs/cqrs';
import { CurrentCaller } from '../auth/auth.guard';
import type { Caller } from '../auth/jwt';
import { RequestInvalid } from '../http/api-errors';
import { ApiAnswer, ApiErrors, Authenticated, codePoints, MinPositionQuery, PATTERNS } from '../http/openapi';
import { RecordTimelineQuery } from './entities.queries';

const INTEGER = /^-?[0-9]{1,15}$/;

@ApiTags('entities')
@Authenticated()
@Controller('entities')
export class EntitiesController {
  constructor(private readonly queries: QueryBus) {}

  @Get(':type/:id/timeline')
  @ApiOperation({ summary: 'Every recorded event, process, task and decision about one record, in order' })
  @ApiParam({ name: 'type', description: 'the record type', schema: { type: 'string', pattern: PATTERNS.entityType } })
  @ApiParam({ name: 'id', description: 'the record id', schema: { type: 'string', minLength: 1, maxLength: 200 } })
  @MinPositionQuery()
  @ApiQuery({
    name: 'after',
    required: false,
    description: 'only entries after this global position',
    schema: { type: 'integer', minimum: -999_999_999_999_999, maximum: 999_999_999_999_999 },
  })
  @ApiQuery({ name: 'limit', required: false, schema: { type: 'integer', minimum: 1, maximum: 1000 } })
  @ApiAnswer(200, 'EntityTimeline')
  @ApiErrors(400, 404, 503)
  timeline(
    @Param('type') type: string,
    @Param('id') id: string,
    @CurrentCaller() caller: Caller,
    @Query('minPosition') minPosition?: string,
    @Query('after') after?: string,
    @Query('limit') limit?: string,
  ) {
    if (!/^[A-Za-z][A-Za-z0-9_]{0,99}$/.test(type) || codePoints(id) > 200) {
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
