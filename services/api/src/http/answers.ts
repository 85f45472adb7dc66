import { z } from 'zod';
// The read models' query results, whose row types are z.infer of these schemas.
import * as read from '@lifeline/read-models';
import { external, named } from './openapi';

/**
 * The answers of the API, one named schema each: the document's `components.schemas` are generated from them, and
 * every route's `ApiAnswer(status, schema)` makes the typecheck refuse a controller whose return type left its schema.
 * Rows of the read models are the read models' own schemas (libs/read-models/src/results.ts).
 */

/** A value of a domain type the document describes only roughly (`{ type: 'object' }`…): its type comes from the domain. */
const opaque = <T>(json: Record<string, unknown>) => z.custom<T>(() => true).meta(json);
const anyObject = opaque<object>({ type: 'object' });
const int = z.number().int();
const nullableString = z.string().nullable();
const described = <S extends z.ZodType>(schema: S, description: string) => schema.meta({ description });

export const RECORD_DATA = external<Record<string, unknown>>('RecordData');

export const ENTITY_REF = named('EntityRef', read.ENTITY_REF_RESULT);

export const RECORD_OUTCOME = named('RecordOutcome', z.object({ position: int, recorded: int, duplicates: int }));

export const DEFINITION_COMMAND_RESULT = named(
  'DefinitionCommandResult',
  z.object({ key: z.string(), version: int, enabled: z.boolean(), position: int, changed: z.boolean() }),
);

const MIGRATION_PROBLEMS = [
  'NO_TARGET',
  'UNKNOWN_ACTIVITY',
  'TYPE_MISMATCH',
  'BOUNDARY_MISMATCH',
  'RESULTS_MISMATCH',
  'JOIN_CHANGED',
] as const;
export const MIGRATION_RESULT = named(
  'MigrationResult',
  z.object({
    dryRun: z.boolean(),
    moved: described(z.array(z.string()), 'the instances moved (not in a dry run)').optional(),
    movable: described(z.array(z.string()), 'the instances that would move (a dry run)').optional(),
    cannotMove: z.array(
      z.object({
        instanceId: z.string(),
        code: z.string().meta({ example: 'MIGRATION.NOT_POSSIBLE' }),
        message: z.string(),
        reasons: z.array(
          z.object({
            activityId: z.string(),
            to: z.string().optional(),
            problem: z.enum(MIGRATION_PROBLEMS),
            message: z.string(),
          }),
        ),
      }),
    ),
  }),
);

export const INSTANCE_COMMAND_RESULT = named(
  'InstanceCommandResult',
  z.object({ instanceId: z.string(), position: int, events: z.array(anyObject) }),
);

export const DEFINITION_ROW = named('DefinitionRow', read.DEFINITION_ROW);
export const DEFINITION_LIST = named('DefinitionList', z.object({ position: int, items: z.array(DEFINITION_ROW) }));
export const DEFINITION_DETAILS = named('DefinitionDetails', read.DEFINITION_DETAILS);

export const ACTIVITY_HEATMAP = named(
  'ActivityHeatmap',
  read.ACTIVITY_HEATMAP_RESULT.extend({ position: int }).meta({
    description: "Per activity of one version of a definition, from its instances' events",
  }),
);

export const INCIDENT = named('Incident', read.OPEN_INCIDENT);
export const POSITION_OF_LINE = named('Position', read.LINE_POSITION);
export const INSTANCE_ROW = named('InstanceRow', read.INSTANCE_ROW);
export const INSTANCE_STATE = named(
  'InstanceState',
  INSTANCE_ROW.extend({
    asOf: described(
      z.object({ position: int, at: z.string() }),
      'with ?asOf: the global position and time the state was rebuilt at',
    ).optional(),
  }),
);
export const INSTANCE_LIST = named('InstanceList', z.object({ position: int, items: z.array(INSTANCE_ROW) }));
export const INSTANCE_HISTORY = named(
  'InstanceHistory',
  z.object({
    instanceId: z.string(),
    items: z.array(
      z.object({
        position: int,
        revision: int,
        type: z.string(),
        at: z.string(),
        actor: z.string().optional(),
        messageId: z.string(),
        correlationId: z.string().optional(),
        causationId: z.string().optional(),
        traceparent: described(z.string(), 'the W3C trace context it was recorded in, when one came in').optional(),
        data: z.unknown(),
      }),
    ),
  }),
);

export const TASK_ROW = named('TaskRow', read.TASK_ROW);
export const TASK_COUNTS = named('TaskCounts', read.TASK_COUNTS);
export const TASK_LIST = named('TaskList', z.object({ position: int, counts: TASK_COUNTS, items: z.array(TASK_ROW) }));
export const TASK_DETAILS = named(
  'TaskDetails',
  read.TASK_DETAILS.extend({
    record: described(z.record(z.string(), z.unknown()), 'the related record as last recorded'),
  }),
);

export const TIMELINE_ENTRY = named('TimelineEntry', read.TIMELINE_ENTRY);
export const ENTITY_TIMELINE = named(
  'EntityTimeline',
  z.object({ position: int, entity: ENTITY_REF, items: z.array(TIMELINE_ENTRY) }),
);

const RETRY_OUTCOME = z.enum(['started', 'scheduled', 'no-match']);
export const START_FAILURE = named('StartFailure', read.START_FAILURE_ROW);
export const START_FAILURE_LIST = named('StartFailureList', z.object({ position: int, items: z.array(START_FAILURE) }));
export const START_RETRY_RESULT = named(
  'StartRetryResult',
  z.object({
    failureId: z.string(),
    outcome: RETRY_OUTCOME,
    definitionVersion: int,
    instanceId: z.string().optional(),
    position: int,
  }),
);

export const MAIL = named(
  'Mail',
  z.object({
    id: z.string(),
    kind: z.enum(['task-assigned', 'task-overdue', 'task-escalated', 'task-reminder']),
    taskId: z.string(),
    user: z.string(),
    address: nullableString,
    subject: z.string(),
    status: z.enum(['pending', 'sent', 'failed', 'unaddressed']),
    attempts: int,
    nextAttemptAt: z.string(),
    lastError: nullableString,
    createdAt: z.string(),
    sentAt: nullableString,
  }),
);
export const MAIL_LIST = named('MailList', z.object({ items: z.array(MAIL) }));

export const LOCKED_JOBS = named(
  'LockedJobs',
  z.object({
    jobs: z.array(
      named(
        'LockedJob',
        z.object({
          jobId: z.string(),
          jobType: z.string(),
          instanceId: z.string(),
          activityId: z.string(),
          retries: int,
          inputs: RECORD_DATA,
          entity: ENTITY_REF,
          lockExpiresAt: z.string(),
        }),
      ),
    ),
  }),
);
export const JOB_LOCK_RESULT = named(
  'JobLockResult',
  z.object({ jobId: z.string(), lockExpiresAt: nullableString, position: int }),
);
export const JOB_COMMAND_RESULT = named(
  'JobCommandResult',
  z.object({ jobId: z.string(), instanceId: z.string(), position: int }),
);
export const JOB_FAIL_RESULT = named(
  'JobFailResult',
  JOB_COMMAND_RESULT.extend({ retries: int.nullable(), retryAt: nullableString, incidentId: nullableString }),
);
export const JOB_ERROR_RESULT = named(
  'JobErrorResult',
  JOB_COMMAND_RESULT.extend({ next: nullableString, incidentId: nullableString }),
);
export const JOB = named('Job', read.JOB_ROW);
export const JOB_LIST = named('JobList', z.object({ position: int, items: z.array(JOB) }));

export const CALLER = named('Caller', z.object({ id: z.string(), roles: z.array(z.string()), admin: z.boolean() }));
export const DEMO_USER = named(
  'DemoUser',
  z.object({ id: z.string(), roles: z.array(z.string()), description: z.string(), token: z.string() }),
);
export const DEMO_USERS = named('DemoUsers', z.array(DEMO_USER));

export const HEALTH = named(
  'Health',
  z.object({
    ok: z.boolean(),
    head: int,
    readModels: int,
    // Views still being built from the log since start-up (a changed layout, a new or deleted read-model file).
    viewsCatchingUp: z.array(z.object({ view: z.string(), position: int, target: int })),
    reactions: anyObject,
    // With the Kafka source: { ok, stuckPartitions: [{ topic, partition, codec, error, firstOffset, … }] }.
    kafka: anyObject.optional(),
    counters: z.record(z.string(), z.number()),
  }),
);
export const LIVENESS = named('Liveness', z.object({ ok: z.boolean() }));
export const READINESS = named(
  'Readiness',
  z.object({
    ok: z.boolean(),
    checks: z.object({ store: z.boolean(), reactions: z.boolean(), kafka: z.boolean() }),
  }),
);

export const WEBHOOK = named('Webhook', read.WEBHOOK_ROW);
export const WEBHOOK_LIST = named('WebhookList', z.object({ position: int, items: z.array(WEBHOOK) }));
export const WEBHOOK_CREATED = named(
  'WebhookCreated',
  z.object({
    id: z.string(),
    url: z.string(),
    events: z.array(z.string()),
    description: z.string().optional(),
    secret: described(z.string(), 'whsec_…: shown once; every delivery is signed with it'),
    position: int,
  }),
);
export const WEBHOOK_REDELIVERY = named(
  'WebhookRedelivery',
  z.object({ id: z.string(), webhookId: z.string(), position: int }),
);
export const WEBHOOK_DELIVERY_LIST = named(
  'WebhookDeliveryList',
  z.object({
    items: z.array(
      z.object({
        id: z.string(),
        webhookId: z.string(),
        eventId: z.string(),
        eventType: z.string(),
        position: int,
        status: z.enum(['pending', 'delivered', 'dead']),
        attempts: int,
        nextAttemptAt: nullableString,
        lastStatus: int.nullable(),
        lastError: nullableString,
        createdAt: z.string(),
        deliveredAt: nullableString,
      }),
    ),
  }),
);

export const REBUILD_RESULT = named(
  'RebuildResult',
  z.object({
    file: z.string(),
    readModel: z.string(),
    events: int,
    position: int,
    elapsedMs: int,
    eventsPerSecond: z.number(),
  }),
);
