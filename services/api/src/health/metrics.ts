import { Injectable } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import type { Clock, LifelineMetrics } from '@lifeline/engine';
import { incidentInstanceCount, openTasksByRole, overdueTaskCount, type ReadModels } from '@lifeline/read-models';

/** The API's side of /metrics: request latency, and what the read models count (open, overdue tasks, incidents). */
@Injectable()
export class Metrics {
  constructor(readonly lifeline: LifelineMetrics) {}

  /** Adds the read models' gauges, read when /metrics is scraped. */
  static forApi(lifeline: LifelineMetrics, readModels: ReadModels, clock: Clock): Metrics {
    lifeline.gauge('lifeline_read_models_position', 'The last log position the read models applied', [], () =>
      readModels.position(),
    );
    lifeline.gauge('lifeline_tasks_open', 'Open tasks by role (none: assigned to a user by name)', ['role'], () =>
      openTasksByRole(readModels.db).map(({ role, count }) => [{ role }, count]),
    );
    lifeline.gauge('lifeline_tasks_overdue', 'Open tasks past their due time', [], () =>
      overdueTaskCount(readModels.db, clock.nowIso()),
    );
    lifeline.gauge('lifeline_incidents_open', 'Running instances with an open incident', [], () =>
      incidentInstanceCount(readModels.db),
    );
    return new Metrics(lifeline);
  }

  /** Times each request, labelled with its route pattern (never the raw path: ids would make a series each). */
  middleware() {
    return (request: Request, response: Response, next: NextFunction): void => {
      const end = this.lifeline.httpSeconds.startTimer();
      response.once('finish', () => {
        const route = (request as Request & { route?: { path?: unknown } }).route?.path;
        end({
          method: request.method,
          route: typeof route === 'string' ? request.baseUrl + route : 'unmatched',
          status: response.statusCode,
        });
      });
      next();
    };
  }

  refused(source: string, count: number): void {
    this.lifeline.entityEventsRefused.inc({ source }, count);
  }

  text(): Promise<string> {
    return this.lifeline.text();
  }

  counters(): Promise<Record<string, number>> {
    return this.lifeline.counters();
  }
}
