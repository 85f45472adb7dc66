import { z } from 'zod';
import type {
  FormField,
  InstanceCause,
  ProcessDefinition,
  Question,
  StartStage,
  Trigger,
} from '@lifeline/process-domain';

/**
 * What the queries answer, as zod schemas: the row types are `z.infer` of these, and the API documents its answers
 * with the same schemas (decision 0011), so a row and its documented shape cannot drift apart.
 */

/** A value of a domain type the document describes only roughly: its TypeScript type is the domain's. */
const opaque = <T>(json: Record<string, unknown>) => z.custom<T>(() => true).meta(json);
const int = z.int();
const nullableString = z.string().nullable();
const described = <S extends z.ZodType>(schema: S, description: string) => schema.meta({ description });
const data = z.record(z.string(), z.unknown());

export const ENTITY_REF_RESULT = z.object({ type: z.string(), id: z.string() });

export const TASK_STATUSES = ['new', 'ongoing', 'postponed', 'completed', 'cancelled'] as const;
export const TASK_ROW = z.object({
  id: z.string(),
  title: z.string(),
  status: z.enum(TASK_STATUSES),
  assignee: nullableString,
  role: nullableString,
  entity: ENTITY_REF_RESULT.nullable(),
  definitionKey: nullableString,
  instanceId: z.string(),
  activityId: z.string(),
  createdAt: z.string(),
  startAt: z.string(),
  dueAt: nullableString,
  overdue: z.boolean(),
});
export const TASK_DETAILS = TASK_ROW.extend({
  instructions: nullableString,
  hint: nullableString,
  completedAt: nullableString,
  completedBy: nullableString,
  result: nullableString,
  results: z.array(z.string()).nullable(),
  form: opaque<FormField[] | null>({ type: ['array', 'null'], items: { type: 'object' } }),
  question: opaque<Question | null>({ type: ['object', 'null'] }),
  fields: data.nullable(),
  answers: z.array(z.string()).nullable(),
  /** Global position of the last event that changed this task. */
  position: int,
});
export const TASK_COUNTS = z
  .object({ new: int, ongoing: int, postponed: int, completed: int, cancelled: int, open: int, overdue: int })
  .meta({
    description:
      'How many tasks in each status match every filter of the request (role, assignee, definition, entityType, ' +
      'entityId, search, due) except `status` itself, whose values these are; `open` = new + ongoing, ' +
      '`overdue` = open tasks past their due date. Paging (limit, offset) does not apply.',
  });

export const OPEN_INCIDENT = z.object({
  incidentId: z.string(),
  activityId: z.string(),
  code: z.string(),
  message: z.string(),
  expression: z.string().optional(),
  raisedAt: z.string(),
});
export const LINE_POSITION = z
  .object({
    token: z.string(),
    activityId: z.string(),
    activityType: z.string(),
    /** When the line got there. */
    since: z.string(),
  })
  .meta({
    description:
      'Where one line of the instance rests: its main line (`main`), or a branch of a fork (`<fork>.<visit>.<index>`)',
  });
export const INSTANCE_STATUSES = ['running', 'suspended', 'completed', 'terminated', 'incident'] as const;
export const INSTANCE_ROW = z.object({
  id: z.string(),
  definitionKey: z.string(),
  definitionVersion: int,
  definitionName: z.string(),
  entity: ENTITY_REF_RESULT,
  status: z.enum(INSTANCE_STATUSES),
  /** The activity entered last, by any line (kept for clients from before parallel branches). */
  currentActivity: described(nullableString, 'the activity entered last, by any line'),
  /** Where each line of the instance rests now: one while it runs in one line, none once it ended. */
  positions: described(
    z.array(LINE_POSITION),
    'where each line rests now: several while parallel branches run, none once ended',
  ),
  variables: data,
  incidents: z.array(OPEN_INCIDENT),
  startedAt: z.string(),
  endedAt: nullableString,
  cause: opaque<InstanceCause>({ type: 'object' }),
  /** Global position of the last event of this instance. */
  lastPosition: int,
});

export const DEFINITION_ROW = z.object({
  key: z.string(),
  name: z.string(),
  relatedEntity: z.string(),
  executionOrder: int,
  enabled: z.boolean(),
  createdAt: z.string(),
  updatedAt: z.string(),
  version: int,
  triggers: opaque<Trigger[]>({ type: 'array', items: { type: 'object' } }),
  /** Roles that may start it by hand for a record (besides admins); empty: admins only. */
  startableBy: described(z.array(z.string()), 'roles that may start it by hand; empty: admins only'),
  /** Instances not yet completed or terminated (running, suspended or with an incident). */
  running: int,
  openTasks: int,
});
const DEFINITION = opaque<ProcessDefinition>({ type: 'object' });
export const DEFINITION_VERSION_ROW = z.object({ version: int, publishedAt: z.string(), definition: DEFINITION });
export const DEFINITION_DETAILS = DEFINITION_ROW.extend({
  definition: DEFINITION,
  versions: z.array(DEFINITION_VERSION_ROW),
});

export const ACTIVITY_STAYS = z.object({
  count: described(int, 'stays that ended (moved on, or the instance ended)'),
  /** Rounded to the millisecond; null when no stay has ended there. */
  meanMs: int.nullable(),
  maxMs: int.nullable(),
});
export const ACTIVITY_HEAT = z.object({
  activityId: z.string(),
  instances: described(int, 'lines resting there now (each parallel line counts)'),
  incidents: described(int, 'open incidents there, of instances not ended'),
  entered: described(int, 'how many times a line entered it'),
  stays: ACTIVITY_STAYS,
});
export const ACTIVITY_HEATMAP_RESULT = z.object({
  definitionKey: z.string(),
  version: int,
  /** Only the activities some line has reached, by activity id. */
  activities: described(z.array(ACTIVITY_HEAT), 'the activities some instance has reached, by id'),
});

export const TIMELINE_ENTRY = z.object({
  position: int,
  at: z.string(),
  /** The event type (`EntityEventRecorded`, `TaskCompleted`, …). */
  kind: z.string(),
  actor: z.string(),
  instanceId: nullableString,
  taskId: nullableString,
  summary: z.string(),
  data: z.unknown(),
  causationId: z.string(),
  /** The event that caused this one, when it is on the same timeline (else only `causationId` is known). */
  cause: z.object({ id: z.string(), type: z.string(), position: int }).nullable(),
});

export const START_FAILURE_ROW = z.object({
  failureId: z.string(),
  /** Global position of the StartFailed event. */
  position: int,
  entity: ENTITY_REF_RESULT,
  definitionKey: z.string(),
  definitionVersion: int,
  entityEventId: z.string(),
  stage: opaque<StartStage>({
    type: 'string',
    enum: ['trigger', 'schedule', 'start', 'delayed-start', 'scheduled-start'],
  }),
  /** The instance the start would have created (and does create when a retry starts it). */
  instanceId: z.string(),
  code: z.string(),
  message: z.string(),
  failedAt: z.string(),
  status: z.enum(['open', 'retried']),
  retry: z
    .object({
      by: z.string(),
      at: z.string(),
      outcome: z.enum(['started', 'scheduled', 'no-match']),
      definitionKey: z.string(),
      definitionVersion: int,
      instanceId: z.string().optional(),
    })
    .nullable(),
});

export const JOB_STATES = ['available', 'locked', 'backoff', 'completed', 'failed', 'errored', 'cancelled'] as const;
export const JOB_ROW = z.object({
  jobId: z.string(),
  instanceId: z.string(),
  activityId: z.string(),
  jobType: z.string(),
  state: z.enum(JOB_STATES),
  /** The instance is suspended: the job is not offered until it resumes. */
  suspended: z.boolean(),
  /** Failures it may still have. */
  retries: int,
  /** The worker holding it (locked), or the last one that did. */
  workerId: nullableString,
  lockExpiresAt: nullableString,
  /** After a failure with a backoff: offered again then. */
  retryAt: nullableString,
  lastError: nullableString,
  /** The business error code a worker ended it with. */
  errorCode: nullableString,
  incident: z.object({ incidentId: z.string(), open: z.boolean() }).nullable(),
  inputs: data,
  entity: ENTITY_REF_RESULT,
  createdAt: z.string(),
  updatedAt: z.string(),
  /** Global position of the last event that changed it. */
  position: int,
});

export const WEBHOOK_ROW = z.object({
  id: z.string(),
  url: z.string(),
  events: z.array(z.string()),
  description: nullableString,
  /** The secret's first characters; the whole secret is shown once, when the webhook is created. */
  secretPrefix: z.string(),
  status: z.enum(['active', 'deleted']),
  createdAt: z.string(),
  createdBy: z.string(),
  deletedAt: nullableString,
});
