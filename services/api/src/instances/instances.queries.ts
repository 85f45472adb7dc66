import { Injectable } from '@nestjs/common';
import { Query, QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import type { z } from 'zod';
import {
  getInstance,
  listInstances,
  viewerHasTaskInInstance,
  type InstanceFilter,
  type InstanceRow,
} from '@lifeline/read-models';
import { AsOfPool, parseAsOf } from '@lifeline/audit';
import { streams } from '@lifeline/process-domain';
import { EngineRuntime } from '@lifeline/engine';
import { hasOverview, type Caller } from '../auth/jwt';
import { NotFound, RequestInvalid } from '../http/api-errors';
import { AS_OF, POSITION } from '../http/openapi';
import { ReadSide } from '../http/read-side';
import type { INSTANCE_HISTORY } from '../http/answers';
import type { INSTANCE_LIST } from '../http/answers';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
export const checkInstanceId = (id: string): string => {
  if (!UUID.test(id)) throw new NotFound('INSTANCE.NOT_FOUND', 'No such instance');
  return id;
};

/**
 * Without an overview role (admin, auditor), an instance is readable only by those with a task in it;
 * to anyone else it answers exactly as an instance that does not exist.
 */
function requireNeedToKnow(read: ReadSide, caller: Caller, instanceId: string): void {
  if (hasOverview(caller)) return;
  read.served(['task-list']);
  if (!viewerHasTaskInInstance(read.db, { user: caller.id, roles: caller.roles }, instanceId)) {
    throw new NotFound('INSTANCE.NOT_FOUND', 'No such instance');
  }
}

/** Instances by definition, record, status or open incidents; without an overview role, those one has a task in. */
export class InstanceListQuery extends Query<z.output<typeof INSTANCE_LIST>> {
  constructor(
    readonly filter: Omit<InstanceFilter, 'visibleTo'>,
    readonly caller: Caller,
    readonly minPosition?: string,
  ) {
    super();
  }
}

/** An instance's state; with `asOf`, as it was then. */
export class InstanceQuery extends Query<InstanceRow | (InstanceRow & { asOf: { position: number; at: string } })> {
  constructor(
    readonly instanceId: string,
    readonly caller: Caller,
    readonly minPosition?: string,
    readonly asOf?: string,
  ) {
    super();
  }
}

export type InstanceHistory = z.output<typeof INSTANCE_HISTORY>;

/** The instance's events in order, from its stream. */
export class InstanceHistoryQuery extends Query<InstanceHistory> {
  constructor(
    readonly instanceId: string,
    readonly caller: Caller,
  ) {
    super();
  }
}

@Injectable()
@QueryHandler(InstanceListQuery)
export class InstanceListHandler implements IQueryHandler<InstanceListQuery> {
  constructor(private readonly read: ReadSide) {}

  async execute({ filter, caller, minPosition }: InstanceListQuery) {
    const { position } = await this.read.atLeast(minPosition, ['instances', 'task-list']);
    const items = listInstances(this.read.db, {
      ...filter,
      // Need to know: without an overview role, only the instances one has a task in.
      ...(hasOverview(caller) ? {} : { visibleTo: { user: caller.id, roles: caller.roles } }),
    });
    return { position, items };
  }
}

@Injectable()
@QueryHandler(InstanceQuery)
export class InstanceHandler implements IQueryHandler<InstanceQuery> {
  constructor(
    private readonly read: ReadSide,
    private readonly asOfPool: AsOfPool,
  ) {}

  async execute({ instanceId: id, caller, minPosition, asOf }: InstanceQuery) {
    checkInstanceId(id);
    requireNeedToKnow(this.read, caller, id);
    if (minPosition !== undefined && (typeof minPosition !== 'string' || !POSITION.test(minPosition))) {
      throw new RequestInvalid('QUERY.INVALID_MIN_POSITION', 'minPosition must be a non-negative integer');
    }
    if (asOf !== undefined && (typeof asOf !== 'string' || !AS_OF.test(asOf))) {
      throw new RequestInvalid(
        'AUDIT.INVALID_AS_OF',
        'asOf must be a global position (integer) or an ISO-8601 instant with a zone',
      );
    }
    if (asOf !== undefined) {
      // The instance as it was then, rebuilt from the log up to that point on a worker thread (docs/architecture.md, "Audit").
      const past = await this.asOfPool.instance(parseAsOf(asOf), id);
      if (!past.instance) throw new NotFound('INSTANCE.NOT_FOUND', 'No such instance at that point');
      return { ...past.instance, asOf: { position: past.position, at: past.at } };
    }
    await this.read.atLeast(minPosition, ['instances']);
    const found = getInstance(this.read.db, id);
    if (!found) throw new NotFound('INSTANCE.NOT_FOUND', 'No such instance');
    return found;
  }
}

@Injectable()
@QueryHandler(InstanceHistoryQuery)
export class InstanceHistoryHandler implements IQueryHandler<InstanceHistoryQuery, InstanceHistory> {
  constructor(
    private readonly read: ReadSide,
    private readonly engine: EngineRuntime,
  ) {}

  async execute({ instanceId: id, caller }: InstanceHistoryQuery): Promise<InstanceHistory> {
    requireNeedToKnow(this.read, caller, checkInstanceId(id));
    const events = await this.engine.store.readStream(streams.instance(id));
    if (events.length === 0) throw new NotFound('INSTANCE.NOT_FOUND', 'No such instance');
    return {
      instanceId: id,
      items: events.map((e) => ({
        position: e.position,
        revision: e.revision,
        type: e.type,
        at: e.metadata.at,
        actor: e.metadata.actor,
        messageId: e.id,
        correlationId: e.metadata.correlationId,
        causationId: e.metadata.causationId,
        ...(e.metadata.traceparent ? { traceparent: e.metadata.traceparent } : {}),
        data: e.data,
      })),
    };
  }
}
