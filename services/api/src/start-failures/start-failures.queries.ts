import { Injectable } from '@nestjs/common';
import type { z } from 'zod';
import { Query, QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import {
  getStartFailure,
  listStartFailures,
  type StartFailureFilter,
  type StartFailureRow,
} from '@lifeline/read-models';
import { NotFound } from '../http/api-errors';
import { ReadSide } from '../http/read-side';
import type { START_FAILURE_LIST } from '../http/answers';

export const FAILURE_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Failed starts, newest first. */
export class StartFailureListQuery extends Query<z.output<typeof START_FAILURE_LIST>> {
  constructor(
    readonly filter: StartFailureFilter,
    readonly minPosition?: string,
  ) {
    super();
  }
}

/** One failed start (404 START_FAILURE.NOT_FOUND when there is none by that id). */
export class StartFailureQuery extends Query<StartFailureRow> {
  constructor(readonly failureId: string) {
    super();
  }
}

@Injectable()
@QueryHandler(StartFailureListQuery)
export class StartFailureListHandler implements IQueryHandler<StartFailureListQuery> {
  constructor(private readonly read: ReadSide) {}
  async execute({ filter, minPosition }: StartFailureListQuery) {
    const { position } = await this.read.atLeast(minPosition, ['start-failures']);
    return { position, items: listStartFailures(this.read.db, filter) };
  }
}

@Injectable()
@QueryHandler(StartFailureQuery)
export class StartFailureHandler implements IQueryHandler<StartFailureQuery, StartFailureRow> {
  constructor(private readonly read: ReadSide) {}
  async execute({ failureId }: StartFailureQuery): Promise<StartFailureRow> {
    this.read.served(['start-failures']);
    const failure = FAILURE_ID.test(failureId) ? getStartFailure(this.read.db, failureId) : undefined;
    if (!failure) throw new NotFound('START_FAILURE.NOT_FOUND', 'No such failed start');
    return failure;
  }
}
