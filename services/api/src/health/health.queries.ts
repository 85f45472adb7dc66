import { Injectable } from '@nestjs/common';
import { Query, QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import type { z } from 'zod';
import { EngineRuntime } from '@lifeline/engine';
import type { HEALTH, READINESS } from '../http/answers';
import { ReadSide } from '../http/read-side';
import { Metrics } from './metrics';

/** Liveness and progress: the log's head, the read models' and the reactions' positions, the counters. */
export class HealthQuery extends Query<z.output<typeof HEALTH>> {}

/** Readiness: the store answers, the reactions run and no Kafka partition is stuck. */
export class ReadinessQuery extends Query<z.output<typeof READINESS>> {}

/** The position the read models have reached (what the live stream announces). */
export class ReadPositionQuery extends Query<number> {}

@Injectable()
@QueryHandler(ReadPositionQuery)
export class ReadPositionHandler implements IQueryHandler<ReadPositionQuery, number> {
  constructor(private readonly read: ReadSide) {}
  async execute(): Promise<number> {
    return this.read.models.position();
  }
}

@Injectable()
@QueryHandler(HealthQuery)
export class HealthHandler implements IQueryHandler<HealthQuery, z.output<typeof HEALTH>> {
  constructor(
    private readonly engine: EngineRuntime,
    private readonly read: ReadSide,
    private readonly metrics: Metrics,
  ) {}

  async execute(): Promise<z.output<typeof HEALTH>> {
    const head = await this.engine.store.headPosition();
    const { ok, reactions, kafka } = this.engine.health();
    return {
      ok,
      head,
      readModels: this.read.models.position(),
      viewsCatchingUp: this.read.models.catchingUp(),
      reactions,
      ...(kafka ? { kafka } : {}),
      counters: await this.metrics.counters(),
    };
  }
}

@Injectable()
@QueryHandler(ReadinessQuery)
export class ReadinessHandler implements IQueryHandler<ReadinessQuery> {
  constructor(private readonly engine: EngineRuntime) {}

  async execute() {
    const { ok, reactions, kafka } = this.engine.health();
    let store = true;
    try {
      await this.engine.store.headPosition();
    } catch {
      store = false;
    }
    return { ok: ok && store, checks: { store, reactions: reactions.ok, kafka: kafka?.ok ?? true } };
  }
}
