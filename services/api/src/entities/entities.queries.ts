import { Injectable } from '@nestjs/common';
import { Query, QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { entityTimeline, viewerHasTaskForRecord, type TimelineEntry } from '@lifeline/read-models';
import { hasOverview, type Caller } from '../auth/jwt';
import { NotFound } from '../http/api-errors';
import { ReadSide } from '../http/read-side';

export interface RecordTimeline {
  position: number;
  entity: { type: string; id: string };
  items: TimelineEntry[];
}

/** Every recorded event, process, task and decision about one record, in order (a page after a position). */
export class RecordTimelineQuery extends Query<RecordTimeline> {
  constructor(
    readonly entity: { type: string; id: string },
    readonly caller: Caller,
    readonly page: { afterPosition?: number; limit?: number },
    readonly minPosition?: string,
  ) {
    super();
  }
}

@Injectable()
@QueryHandler(RecordTimelineQuery)
export class RecordTimelineHandler implements IQueryHandler<RecordTimelineQuery, RecordTimeline> {
  constructor(private readonly read: ReadSide) {}

  async execute({ entity: { type, id }, caller, page, minPosition }: RecordTimelineQuery): Promise<RecordTimeline> {
    const { position } = await this.read.atLeast(minPosition, ['entity-timeline', 'task-list']);
    // Need to know: without an overview role (admin, auditor), only those with a task about the record read
    // it; to anyone else the record answers as one Lifeline never heard of.
    if (
      !hasOverview(caller) &&
      !viewerHasTaskForRecord(this.read.db, { user: caller.id, roles: caller.roles }, type, id)
    ) {
      throw new NotFound('ENTITY.NOT_FOUND', 'No such record');
    }
    return { position, entity: { type, id }, items: entityTimeline(this.read.db, type, id, page) };
  }
}
