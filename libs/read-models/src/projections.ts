import { entityTimelineProjection } from './entity-timeline/entity-timeline.projection';
import { jobsProjection } from './jobs/jobs.projection';
import { instancesProjection } from './instances/instances.projection';
import { processGridProjection } from './process-grid/process-grid.projection';
import type { Projection } from './read-model-db';
import { startFailuresProjection } from './start-failures/start-failures.projection';
import { taskListProjection } from './task-list/task-list.projection';
import { webhooksProjection } from './webhooks/webhooks.projection';

/** Every read model the API serves, in one file. */
export function allProjections(): Projection[] {
  return [
    taskListProjection,
    processGridProjection,
    instancesProjection,
    entityTimelineProjection,
    startFailuresProjection,
    webhooksProjection,
    jobsProjection,
  ];
}
