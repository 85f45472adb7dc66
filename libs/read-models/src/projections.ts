import { entityTimelineProjection } from './entity-timeline/entity-timeline.projection';
import { jobsProjection } from './jobs/jobs.projection';
import { instancesProjection } from './instances/instances.projection';
import { processGridProjection } from './process-grid/process-grid.projection';
import type { Projection } from './read-model-db';
import { startFailuresProjection } from './start-failures/start-failures.projection';
import { taskListProjection } from './task-list/task-list.projection';
import { webhooksProjection } from './webhooks/webhooks.projection';

/** The name of every read model in allProjections(): what a query names when it says which ones it reads. */
export const VIEW_NAMES = [
  'task-list',
  'process-grid',
  'instances',
  'entity-timeline',
  'start-failures',
  'webhooks',
  'jobs',
] as const;

export type ViewName = (typeof VIEW_NAMES)[number];

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
