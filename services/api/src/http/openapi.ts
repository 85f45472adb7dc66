import { applyDecorators } from '@nestjs/common';
import { ApiBearerAuth, ApiParam, ApiQuery, ApiResponse } from '@nestjs/swagger';
import type { OpenAPIObject } from '@nestjs/swagger';
import { DEFINITION_KEY, ENTITY_TYPE } from '@lifeline/process-domain';
import type { SchemaObject } from '@nestjs/swagger/dist/interfaces/open-api-spec.interface';

/**
 * The OpenAPI document's shared pieces: path and query patterns (the same regular expressions the
 * controllers check), the error body, and the success bodies. Patterns use [0-9], not \d, because
 * fuzzers read them as Python regular expressions, where \d matches every Unicode digit.
 */
const LEAP_YEAR = '([0-9]{2}(0[48]|[2468][048]|[13579][26])|([02468][048]|[13579][26])00)';
const CALENDAR_DAY = `([0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])|[0-9]{4}-(0[13-9]|1[0-2])-(29|30)|[0-9]{4}-(0[13578]|1[02])-31|${LEAP_YEAR}-02-29)`;
const TIME_WITH_ZONE =
  '([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\\.[0-9]{1,9})?)?(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])';

export const PATTERNS = {
  definitionKey: DEFINITION_KEY.source,
  /** A BPMN process id (an XML NCName, ASCII letters). */
  processId: '^[A-Za-z_][A-Za-z0-9_.-]{0,199}$',
  /** A role name as tokens carry it. */
  role: '^[A-Za-z0-9_.:-]{1,100}$',
  entityType: ENTITY_TYPE.source,
  /** A filter: empty means "all", as before. */
  optionalEntityType: `^(${ENTITY_TYPE.source.slice(1, -1)})?$`,
  instanceId: '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$',
  taskId: '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\\.[A-Za-z_][A-Za-z0-9_]*\\.[0-9]{1,9}$',
  /** Empty means "no wait", as before. */
  position: '^[0-9]{0,15}$',
  /** An ISO-8601 date-time with a zone on a real calendar day (as the envelope check wants; Date.parse reads them all). */
  dateTime: `^${CALENDAR_DAY}T${TIME_WITH_ZONE}$`,
  /** A global position, or an ISO-8601 instant with a zone on a real calendar day. */
  asOf: `^([0-9]{1,15}|${CALENDAR_DAY}T${TIME_WITH_ZONE})$`,
} as const;

/** Runtime twins of PATTERNS for the controllers' own checks. */
export const POSITION = new RegExp(PATTERNS.position);
export const AS_OF = new RegExp(PATTERNS.asOf);
export const OPTIONAL_ENTITY_TYPE = new RegExp(PATTERNS.optionalEntityType);

/** Length in Unicode code points, as JSON Schema's maxLength counts (String#length counts UTF-16 units). */
export const codePoints = (text: string): number => {
  let count = 0;
  for (const _ of text) count++;
  return count;
};

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const nullable = (schema: SchemaObject): SchemaObject => ({ ...schema, nullable: true });
const string: SchemaObject = { type: 'string' };
const integer: SchemaObject = { type: 'integer' };
const anything: SchemaObject = {};
const object = (
  properties: Record<string, SchemaObject | { $ref: string }>,
  required = Object.keys(properties),
): SchemaObject => ({
  type: 'object',
  required,
  properties,
});

/** Success and error bodies, named so clients can generate types from them. */
export const COMPONENT_SCHEMAS: Record<string, SchemaObject> = {
  Error: {
    type: 'object',
    additionalProperties: false,
    required: ['error'],
    properties: {
      error: {
        type: 'object',
        additionalProperties: false,
        required: ['code', 'message'],
        properties: {
          code: { type: 'string', description: 'stable, e.g. TASK.NOT_ASSIGNABLE', example: 'TASK.NOT_FOUND' },
          message: string,
          details: {
            description:
              'the problems by path, when there are several: `{ path, message, code? }`; for a BPMN file each also names its `element: { id, name?, type }`',
          },
        },
      },
    },
  },
  EntityRef: object({ type: string, id: string }),
  /** Record data (envelope data, task fields, variables): plain JSON without keys that reach a prototype, at any depth. */
  RecordData: {
    type: 'object',
    not: { anyOf: [{ required: ['__proto__'] }, { required: ['constructor'] }, { required: ['prototype'] }] },
    additionalProperties: ref('RecordValue'),
  },
  RecordValue: {
    nullable: true,
    anyOf: [
      { type: 'string' },
      { type: 'number' },
      { type: 'boolean' },
      { type: 'array', items: ref('RecordValue') },
      ref('RecordData'),
    ],
  },
  /** The definition format's shape (docs/architecture.md, "Definition format"); what it means (references, FEEL) is checked when it is published. */
  ProcessDefinition: {
    type: 'object',
    additionalProperties: false,
    required: ['key', 'name', 'relatedEntity', 'start', 'activities'],
    properties: {
      key: { type: 'string', pattern: '^[a-z0-9][a-z0-9-]{0,62}$' },
      name: { type: 'string', minLength: 1 },
      relatedEntity: { type: 'string', pattern: '^[A-Za-z][A-Za-z0-9_]{0,99}$' },
      executionOrder: { type: 'integer' },
      enabled: { type: 'boolean' },
      triggers: {
        type: 'array',
        items: {
          type: 'object',
          required: ['on'],
          properties: {
            on: { type: 'string', enum: ['created', 'updated', 'deleted', 'schedule'] },
            fields: { type: 'array', items: string },
            when: { type: 'string', description: 'FEEL' },
            delay: { type: 'string', description: 'ISO-8601 duration' },
            cron: { type: 'string', description: 'on: schedule only; 5 fields, or 6 with seconds first' },
            timeZone: { type: 'string', description: 'on: schedule only; an IANA time zone, default UTC' },
          },
        },
      },
      start: { type: 'string', pattern: '^[A-Za-z_][A-Za-z0-9_]*$' },
      startableBy: {
        type: 'array',
        minItems: 1,
        maxItems: 50,
        uniqueItems: true,
        description: 'roles that may start it by hand for a record (POST /instances); absent: admins only',
        items: { type: 'string', pattern: '^[A-Za-z0-9_.:-]{1,100}$' },
      },
      activities: {
        type: 'object',
        additionalProperties: {
          type: 'object',
          required: ['type'],
          properties: {
            type: {
              type: 'string',
              enum: [
                'human',
                'automatic',
                'wait',
                'decision',
                'service',
                'end',
                'parallel',
                'inclusive',
                'join',
                'subprocess',
              ],
            },
          },
        },
      },
      onRecordDeleted: {
        description:
          'what a running instance does when its record is deleted: continue (default), terminate, or { next }',
        oneOf: [
          { type: 'string', enum: ['continue', 'terminate'] },
          { type: 'object', additionalProperties: false, required: ['next'], properties: { next: string } },
        ],
      },
      conditionalStarts: {
        type: 'array',
        minItems: 1,
        maxItems: 10,
        description: 'branches a running instance starts when an entity event of its record meets `when` (FEEL)',
        items: {
          type: 'object',
          additionalProperties: false,
          required: ['when', 'next'],
          properties: { when: string, next: string },
        },
      },
    },
  },
  RecordOutcome: object({ position: integer, recorded: integer, duplicates: integer }),
  DefinitionCommandResult: object({
    key: string,
    version: integer,
    enabled: { type: 'boolean' },
    position: integer,
    changed: { type: 'boolean' },
  }),
  MigrationResult: {
    type: 'object',
    required: ['dryRun', 'cannotMove'],
    properties: {
      dryRun: { type: 'boolean' },
      moved: { type: 'array', items: string, description: 'the instances moved (not in a dry run)' },
      movable: { type: 'array', items: string, description: 'the instances that would move (a dry run)' },
      cannotMove: {
        type: 'array',
        items: object({
          instanceId: string,
          code: { ...string, example: 'MIGRATION.NOT_POSSIBLE' },
          message: string,
          reasons: {
            type: 'array',
            items: object(
              {
                activityId: string,
                to: string,
                problem: {
                  type: 'string',
                  enum: [
                    'NO_TARGET',
                    'UNKNOWN_ACTIVITY',
                    'TYPE_MISMATCH',
                    'BOUNDARY_MISMATCH',
                    'RESULTS_MISMATCH',
                    'JOIN_CHANGED',
                  ],
                },
                message: string,
              },
              ['activityId', 'problem', 'message'],
            ),
          },
        }),
      },
    },
  },
  InstanceCommandResult: object({
    instanceId: string,
    position: integer,
    events: { type: 'array', items: { type: 'object' } },
  }),
  DefinitionRow: object({
    key: string,
    name: string,
    relatedEntity: string,
    executionOrder: integer,
    enabled: { type: 'boolean' },
    createdAt: string,
    updatedAt: string,
    version: integer,
    triggers: { type: 'array', items: { type: 'object' } },
    startableBy: { type: 'array', items: string, description: 'roles that may start it by hand; empty: admins only' },
    running: integer,
    openTasks: integer,
  }),
  DefinitionList: object({ position: integer, items: { type: 'array', items: ref('DefinitionRow') } }),
  DefinitionDetails: {
    allOf: [
      ref('DefinitionRow'),
      object({
        definition: { type: 'object' },
        versions: {
          type: 'array',
          items: object({ version: integer, publishedAt: string, definition: { type: 'object' } }),
        },
      }),
    ],
  },
  ActivityHeatmap: {
    ...object({
      position: integer,
      definitionKey: string,
      version: integer,
      activities: {
        type: 'array',
        description: 'the activities some instance has reached, by id',
        items: object({
          activityId: string,
          instances: { type: 'integer', description: 'lines resting there now (each parallel line counts)' },
          incidents: { type: 'integer', description: 'open incidents there, of instances not ended' },
          entered: { type: 'integer', description: 'how many times a line entered it' },
          stays: object({
            count: { type: 'integer', description: 'stays that ended (moved on, or the instance ended)' },
            meanMs: nullable(integer),
            maxMs: nullable(integer),
          }),
        }),
      },
    }),
    description: "Per activity of one version of a definition, from its instances' events",
  },
  Incident: object(
    { incidentId: string, activityId: string, code: string, message: string, expression: string, raisedAt: string },
    ['incidentId', 'activityId', 'code', 'message', 'raisedAt'],
  ),
  Position: {
    ...object({ token: string, activityId: string, activityType: string, since: string }),
    description:
      'Where one line of the instance rests: its main line (`main`), or a branch of a fork (`<fork>.<visit>.<index>`)',
  },
  InstanceRow: object({
    id: string,
    definitionKey: string,
    definitionVersion: integer,
    definitionName: string,
    entity: ref('EntityRef'),
    status: { type: 'string', enum: ['running', 'suspended', 'completed', 'terminated', 'incident'] },
    currentActivity: { ...nullable(string), description: 'the activity entered last, by any line' },
    positions: {
      type: 'array',
      items: ref('Position'),
      description: 'where each line rests now: several while parallel branches run, none once ended',
    },
    variables: { type: 'object' },
    incidents: { type: 'array', items: ref('Incident') },
    startedAt: string,
    endedAt: nullable(string),
    cause: { type: 'object' },
    lastPosition: integer,
  }),
  InstanceList: object({ position: integer, items: { type: 'array', items: ref('InstanceRow') } }),
  InstanceHistory: object({
    instanceId: string,
    items: {
      type: 'array',
      items: object(
        {
          position: integer,
          revision: integer,
          type: string,
          at: string,
          actor: string,
          messageId: string,
          correlationId: string,
          causationId: string,
          traceparent: { type: 'string', description: 'the W3C trace context it was recorded in, when one came in' },
          data: anything,
        },
        ['position', 'revision', 'type', 'at', 'messageId', 'data'],
      ),
    },
  }),
  TaskRow: object({
    id: string,
    title: string,
    status: { type: 'string', enum: ['new', 'ongoing', 'postponed', 'completed', 'cancelled'] },
    assignee: nullable(string),
    role: nullable(string),
    entity: nullable(ref('EntityRef') as SchemaObject),
    definitionKey: nullable(string),
    instanceId: string,
    activityId: string,
    createdAt: string,
    startAt: string,
    dueAt: nullable(string),
    overdue: { type: 'boolean' },
  }),
  TaskCounts: {
    ...object({
      new: integer,
      ongoing: integer,
      postponed: integer,
      completed: integer,
      cancelled: integer,
      open: integer,
      overdue: integer,
    }),
    description:
      'How many tasks in each status match every filter of the request (role, assignee, definition, entityType, ' +
      'entityId, search, due) except `status` itself, whose values these are; `open` = new + ongoing, ' +
      '`overdue` = open tasks past their due date. Paging (limit, offset) does not apply.',
  },
  TaskList: object({ position: integer, counts: ref('TaskCounts'), items: { type: 'array', items: ref('TaskRow') } }),
  TaskDetails: {
    allOf: [
      ref('TaskRow'),
      object({
        instructions: nullable(string),
        hint: nullable(string),
        completedAt: nullable(string),
        completedBy: nullable(string),
        result: nullable(string),
        results: nullable({ type: 'array', items: string }),
        form: nullable({ type: 'array', items: { type: 'object' } }),
        question: nullable({ type: 'object' }),
        fields: nullable({ type: 'object' }),
        answers: nullable({ type: 'array', items: string }),
        position: integer,
        record: { type: 'object', description: 'the related record as last recorded' },
      }),
    ],
  },
  TimelineEntry: object({
    position: integer,
    at: string,
    kind: string,
    actor: string,
    instanceId: nullable(string),
    taskId: nullable(string),
    summary: string,
    data: anything,
    causationId: string,
    cause: nullable(object({ id: string, type: string, position: integer })),
  }),
  EntityTimeline: object({
    position: integer,
    entity: ref('EntityRef'),
    items: { type: 'array', items: ref('TimelineEntry') },
  }),
  StartFailure: object({
    failureId: string,
    position: integer,
    entity: ref('EntityRef'),
    definitionKey: string,
    definitionVersion: integer,
    entityEventId: string,
    stage: { type: 'string', enum: ['trigger', 'schedule', 'start', 'delayed-start', 'scheduled-start'] },
    instanceId: string,
    code: string,
    message: string,
    failedAt: string,
    status: { type: 'string', enum: ['open', 'retried'] },
    retry: nullable(
      object(
        {
          by: string,
          at: string,
          outcome: { type: 'string', enum: ['started', 'scheduled', 'no-match'] },
          definitionKey: string,
          definitionVersion: integer,
          instanceId: string,
        },
        ['by', 'at', 'outcome', 'definitionKey', 'definitionVersion'],
      ),
    ),
  }),
  Mail: object({
    id: string,
    kind: { type: 'string', enum: ['task-assigned', 'task-overdue', 'task-escalated'] },
    taskId: string,
    user: string,
    address: nullable(string),
    subject: string,
    status: { type: 'string', enum: ['pending', 'sent', 'failed', 'unaddressed'] },
    attempts: integer,
    nextAttemptAt: string,
    lastError: nullable(string),
    createdAt: string,
    sentAt: nullable(string),
  }),
  MailList: object({ items: { type: 'array', items: ref('Mail') } }),
  StartFailureList: object({ position: integer, items: { type: 'array', items: ref('StartFailure') } }),
  StartRetryResult: object(
    {
      failureId: string,
      outcome: { type: 'string', enum: ['started', 'scheduled', 'no-match'] },
      definitionVersion: integer,
      instanceId: string,
      position: integer,
    },
    ['failureId', 'outcome', 'definitionVersion', 'position'],
  ),
  LockedJob: object({
    jobId: string,
    jobType: string,
    instanceId: string,
    activityId: string,
    retries: integer,
    inputs: ref('RecordData'),
    entity: ref('EntityRef'),
    lockExpiresAt: string,
  }),
  LockedJobs: object({ jobs: { type: 'array', items: ref('LockedJob') } }),
  JobLockResult: object({ jobId: string, lockExpiresAt: nullable(string), position: integer }),
  JobCommandResult: object({ jobId: string, instanceId: string, position: integer }),
  JobFailResult: object({
    jobId: string,
    instanceId: string,
    position: integer,
    retries: nullable(integer),
    retryAt: nullable(string),
    incidentId: nullable(string),
  }),
  JobErrorResult: object({
    jobId: string,
    instanceId: string,
    position: integer,
    next: nullable(string),
    incidentId: nullable(string),
  }),
  Job: object({
    jobId: string,
    instanceId: string,
    activityId: string,
    jobType: string,
    state: { type: 'string', enum: ['available', 'locked', 'backoff', 'completed', 'failed', 'errored', 'cancelled'] },
    suspended: { type: 'boolean' },
    retries: integer,
    workerId: nullable(string),
    lockExpiresAt: nullable(string),
    retryAt: nullable(string),
    lastError: nullable(string),
    errorCode: nullable(string),
    incident: nullable(object({ incidentId: string, open: { type: 'boolean' } })),
    inputs: ref('RecordData'),
    entity: ref('EntityRef'),
    createdAt: string,
    updatedAt: string,
    position: integer,
  }),
  JobList: object({ position: integer, items: { type: 'array', items: ref('Job') } }),
  Caller: object({ id: string, roles: { type: 'array', items: string }, admin: { type: 'boolean' } }),
  DemoUser: object({ id: string, roles: { type: 'array', items: string }, description: string, token: string }),
  Health: object(
    {
      ok: { type: 'boolean' },
      head: integer,
      readModels: integer,
      // Views still being built from the log since start-up (a changed layout, a new or deleted read-model file).
      viewsCatchingUp: {
        type: 'array',
        items: object({ view: string, position: integer, target: integer }, ['view', 'position', 'target']),
      },
      reactions: { type: 'object' },
      // With the Kafka source: { ok, stuckPartitions: [{ topic, partition, codec, error, firstOffset, … }] }.
      kafka: { type: 'object' },
      counters: { type: 'object', additionalProperties: { type: 'number' } },
    },
    ['ok', 'head', 'readModels', 'viewsCatchingUp', 'reactions', 'counters'],
  ),
  Webhook: object(
    {
      id: string,
      url: string,
      events: { type: 'array', items: string },
      description: nullable(string),
      secretPrefix: string,
      status: { type: 'string', enum: ['active', 'deleted'] },
      createdAt: string,
      createdBy: string,
      deletedAt: nullable(string),
    },
    ['id', 'url', 'events', 'secretPrefix', 'status', 'createdAt', 'createdBy'],
  ),
  WebhookList: object({ position: integer, items: { type: 'array', items: ref('Webhook') } }),
  WebhookCreated: object(
    {
      id: string,
      url: string,
      events: { type: 'array', items: string },
      description: string,
      secret: { type: 'string', description: 'whsec_…: shown once; every delivery is signed with it' },
      position: integer,
    },
    ['id', 'url', 'events', 'secret', 'position'],
  ),
  WebhookRedelivery: object({ id: string, webhookId: string, position: integer }),
  WebhookDeliveryList: object({
    items: {
      type: 'array',
      items: object(
        {
          id: string,
          webhookId: string,
          eventId: string,
          eventType: string,
          position: integer,
          status: { type: 'string', enum: ['pending', 'delivered', 'dead'] },
          attempts: integer,
          nextAttemptAt: nullable(string),
          lastStatus: nullable(integer),
          lastError: nullable(string),
          createdAt: string,
          deliveredAt: nullable(string),
        },
        ['id', 'webhookId', 'eventId', 'eventType', 'position', 'status', 'attempts', 'createdAt'],
      ),
    },
  }),
  Liveness: object({ ok: { type: 'boolean' } }),
  Readiness: object({
    ok: { type: 'boolean' },
    checks: object({ store: { type: 'boolean' }, reactions: { type: 'boolean' }, kafka: { type: 'boolean' } }),
  }),
  RebuildResult: object({
    file: string,
    readModel: string,
    events: integer,
    position: integer,
    elapsedMs: integer,
    eventsPerSecond: { type: 'number' },
  }),
};

/**
 * Adds the shared schemas and the `?access_token=` scheme (EventSource cannot send headers), and
 * closes every request DTO: the validation pipe refuses properties it does not know.
 */
export function completeDocument(document: OpenAPIObject, extra: Record<string, SchemaObject> = {}): OpenAPIObject {
  const schemas: Record<string, SchemaObject> = { ...(document.components?.schemas as Record<string, SchemaObject>) };
  for (const [name, schema] of Object.entries(schemas))
    if (name.endsWith('Dto')) schemas[name] = { ...schema, additionalProperties: false };
  return {
    ...document,
    components: {
      ...document.components,
      securitySchemes: {
        ...document.components?.securitySchemes,
        access_token: {
          type: 'apiKey',
          in: 'query',
          name: 'access_token',
          description: 'the bearer token, for EventSource',
        },
      },
      schemas: { ...schemas, ...COMPONENT_SCHEMAS, ...extra },
    },
  };
}

const ERRORS = {
  400: 'Invalid request: REQUEST.INVALID and friends, with every problem by path',
  401: 'No token, or an invalid or expired one (AUTH.*)',
  403: 'The token lacks the role (AUTH.FORBIDDEN), a task you can see is not yours to do this to, or a process you may not start (INSTANCE.START_FORBIDDEN)',
  404: 'Nothing with this id, or nothing you may see: both answer alike (…NOT_FOUND)',
  409: 'Conflict or wrong state (a concurrent change, a task already completed, …)',
  413: 'The body is larger than 1 MiB (REQUEST.TOO_LARGE)',
  415: 'The body is of a media type this operation does not accept (REQUEST.UNSUPPORTED_MEDIA_TYPE, the accepted ones in details), or in an unsupported encoding or charset (REQUEST.UNSUPPORTED_ENCODING)',
  503: 'A view this reads is still being built from the log after start-up, e.g. after an upgrade changed its layout (READ_MODEL.CATCHING_UP, each view with the event it reached and the one it must reach in details); try again after Retry-After',
} as const;
export type ErrorStatus = keyof typeof ERRORS;

/** Declares error answers with the common `{error: {code, message, details?}}` body. */
export const ApiErrors = (...statuses: ErrorStatus[]) =>
  applyDecorators(
    ...statuses.map((status) => ApiResponse({ status, description: ERRORS[status], schema: ref('Error') })),
  );

/** A `?asOf=` query is rebuilt on a worker thread: with every worker busy and the queue full, it is refused. */
export const AsOfUnavailableAnswer = () =>
  ApiResponse({
    status: 503,
    description:
      'Every as-of worker is busy and the queue is full (AUDIT.BUSY), the query waited too long for one (AUDIT.AS_OF_TIMEOUT), the server is stopping (AUDIT.AS_OF_CLOSED), or a view this reads is still being built from the log after start-up (READ_MODEL.CATCHING_UP, progress in details); try again after Retry-After',
    headers: {
      'Retry-After': { description: 'seconds to wait before asking again', schema: { type: 'integer', minimum: 1 } },
    },
    schema: ref('Error'),
  });

/** A success answer with a named schema. */
export const ApiAnswer = (status: number, schema: string, description = 'OK') =>
  applyDecorators(ApiResponse({ status, description, schema: ref(schema) }));

/** Bearer-token operations answer 401 without one. */
export const Authenticated = () => applyDecorators(ApiBearerAuth(), ApiErrors(401));

/** A command with a JSON body: malformed, oversize or oddly encoded bodies are refused before the controller. */
export const WithBody = () => ApiErrors(400, 413, 415);

export const DefinitionKeyParam = () =>
  ApiParam({
    name: 'key',
    description: 'the definition key',
    schema: { type: 'string', pattern: PATTERNS.definitionKey },
  });
export const InstanceIdParam = () =>
  ApiParam({
    name: 'id',
    description: 'an instance id (UUID)',
    schema: { type: 'string', pattern: PATTERNS.instanceId },
  });
export const TaskIdParam = () =>
  ApiParam({
    name: 'id',
    description: 'a task id: `<instanceId>.<activityId>.<visit>`',
    schema: { type: 'string', pattern: PATTERNS.taskId },
  });
export const MinPositionQuery = () =>
  ApiQuery({
    name: 'minPosition',
    required: false,
    description: 'wait (up to 5 s) until the read models reached this global position; empty or absent: no wait',
    schema: { type: 'string', pattern: PATTERNS.position },
  });
export const AsOfQuery = () =>
  ApiQuery({
    name: 'asOf',
    required: false,
    description: 'a global position or an ISO-8601 instant: the view as it was then, rebuilt from history',
    schema: { type: 'string', pattern: PATTERNS.asOf },
  });
