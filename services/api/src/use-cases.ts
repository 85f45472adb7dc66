import { RebuildReadModelsHandler } from './admin/read-models.use-cases';
import {
  ActivityHeatmapHandler,
  DefinitionBpmnHandler,
  DefinitionHandler,
  DefinitionListHandler,
  InstancesToMigrateHandler,
} from './definitions/definitions.queries';
import { RecordTimelineHandler } from './entities/entities.queries';
import { HealthHandler, ReadinessHandler, ReadPositionHandler } from './health/health.queries';
import { InstanceHandler, InstanceHistoryHandler, InstanceListHandler } from './instances/instances.queries';
import { JobBroker } from './jobs/job-broker';
import { JobHandler, JobIncidentHandler, JobListHandler } from './jobs/jobs.queries';
import { MailListHandler, ResendMailHandler } from './mails/mails.use-cases';
import { StartFailureHandler, StartFailureListHandler } from './start-failures/start-failures.queries';
import { TaskHandler, TaskListHandler } from './tasks/tasks.queries';
import {
  WebhookDeliveriesHandler,
  WebhookDeliveryHandler,
  WebhookHandler,
  WebhookListHandler,
} from './webhooks/webhooks.queries';

/**
 * The API's own handlers: every query of the read side, and the commands that live beside it (fetch-and-lock,
 * a mail resent, a read-model rebuild). The engine's commands are `EngineRuntime.commands`.
 */
export const API_HANDLERS = [
  TaskListHandler,
  TaskHandler,
  InstanceListHandler,
  InstanceHandler,
  InstanceHistoryHandler,
  DefinitionListHandler,
  DefinitionHandler,
  DefinitionBpmnHandler,
  ActivityHeatmapHandler,
  InstancesToMigrateHandler,
  RecordTimelineHandler,
  StartFailureListHandler,
  StartFailureHandler,
  JobListHandler,
  JobHandler,
  JobIncidentHandler,
  JobBroker,
  MailListHandler,
  ResendMailHandler,
  WebhookListHandler,
  WebhookHandler,
  WebhookDeliveriesHandler,
  WebhookDeliveryHandler,
  HealthHandler,
  ReadinessHandler,
  ReadPositionHandler,
  RebuildReadModelsHandler,
];
