import { Controller, Get, Param, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { entityTimeline } from '@lifeline/read-models';
import { ReadSide } from '../http/read-side';
import { RequestInvalid } from '../http/api-errors';

@ApiTags('entities')
@ApiBearerAuth()
@Controller('entities')
export class EntitiesController {
  constructor(private readonly read: ReadSide) {}

  @Get(':type/:id/timeline')
  @ApiOperation({ summary: 'Every recorded event, process, task and decision about one record, in order' })
  async timeline(
    @Param('type') type: string,
    @Param('id') id: string,
    @Query('minPosition') minPosition?: string,
    @Query('after') after?: string,
    @Query('limit') limit?: string,
  ) {
    if (!/^[A-Za-z][A-Za-z0-9_]{0,99}$/.test(type) || id.length > 200) {
      throw new RequestInvalid('ENTITY.INVALID_REF', 'The record type or id is not valid');
    }
    const afterPosition = after === undefined ? undefined : Number(after);
    const pageSize = limit === undefined ? undefined : Number(limit);
    if ((afterPosition !== undefined && !Number.isSafeInteger(afterPosition)) || (pageSize !== undefined && !(Number.isInteger(pageSize) && pageSize > 0 && pageSize <= 1000))) {
      throw new RequestInvalid('QUERY.INVALID', 'after must be an integer and limit 1..1000');
    }
    const { position } = await this.read.atLeast(minPosition);
    return { position, entity: { type, id }, items: entityTimeline(this.read.db, type, id, { afterPosition, limit: pageSize }) };
  }
}
