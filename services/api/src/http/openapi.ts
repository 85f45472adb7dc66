import { applyDecorators } from '@nestjs/common';
import { ApiBearerAuth, ApiParam, ApiQuery, ApiResponse } from '@nestjs/swagger';
import type { OpenAPIObject } from '@nestjs/swagger';
import { DEFINITION_KEY, ENTITY_TYPE } from '@lifeline/process-domain';
import type { SchemaObject } from '@nestjs/swagger/dist/interfaces/open-api-spec.interface';
import { z } from 'zod';

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

/** The named schemas of the API's contracts: request bodies and answers, `components.schemas` of the document. */
export const CONTRACTS = z.registry<{ id: string }>();

/** Names a contract's schema: the document lists it under `components.schemas.<id>` and refers to it there. */
export const named = <S extends z.ZodType>(id: string, schema: S): S => {
  CONTRACTS.add(schema, { id });
  return schema;
};

const ref = (id: string) => ({ $ref: `#/components/schemas/${id}` });
export const refTo = (schema: z.ZodType) => {
  const id = CONTRACTS.get(schema)?.id;
  if (id === undefined) throw new Error('a contract schema must be named (openapi.ts named) to be referred to');
  return ref(id);
};

/** A schema the document takes as JSON Schema, not from zod (the domain's): referred to by name. */
export const external = <T>(id: string, description?: string) =>
  z.custom<T>(() => true).meta({ ...ref(id), ...(description ? { description } : {}) });

/** The error body every 4xx and 5xx answers. */
export const ERROR = named(
  'Error',
  z.strictObject({
    error: z.strictObject({
      code: z.string().meta({ description: 'stable, e.g. TASK.NOT_ASSIGNABLE', example: 'TASK.NOT_FOUND' }),
      message: z.string(),
      details: z.unknown().optional().meta({
        description:
          'the problems by path, when there are several: `{ path, message, code? }`; for a BPMN file each also names its `element: { id, name?, type }`',
      }),
    }),
  }),
);

const JSON_SCHEMA_OPTIONS = {
  unrepresentable: 'any',
  uri: (id: string) => ref(id).$ref,
  // z.int()'s own bounds (the safe integers) say nothing a client needs.
  override: ({ jsonSchema }: { jsonSchema: { minimum?: number; maximum?: number } }) => {
    if (jsonSchema.minimum === Number.MIN_SAFE_INTEGER) delete jsonSchema.minimum;
    if (jsonSchema.maximum === Number.MAX_SAFE_INTEGER) delete jsonSchema.maximum;
  },
} as const;
/** Plain JSON Schema 2020-12 (OpenAPI 3.1's), without the per-schema `$schema`/`$id` header. */
const bare = (schema: object): object => {
  const { $schema: _schema, $id: _id, ...rest } = schema as Record<string, unknown>;
  return rest;
};
export const jsonSchemaOf = (schema: z.ZodType, io: 'input' | 'output'): object =>
  bare(z.toJSONSchema(schema, { ...JSON_SCHEMA_OPTIONS, io }));

/** The query parameters a schema describes, one per property. */
export const ApiQueryOf = (schema: z.ZodObject): MethodDecorator => {
  const json = jsonSchemaOf(schema, 'output') as { properties?: Record<string, object>; required?: string[] };
  const decorators = Object.entries(json.properties ?? {}).map(([name, property]) => {
    const { description, ...rest } = property as { description?: string };
    return ApiQuery({ name, required: json.required?.includes(name) ?? false, description, schema: rest });
  });
  return (target, key, descriptor) => {
    for (const decorator of decorators) decorator(target, key, descriptor);
  };
};

/** Adds the contracts' schemas and the `?access_token=` scheme (EventSource cannot send headers). */
export function completeDocument(document: OpenAPIObject, domain: Record<string, object>): OpenAPIObject {
  const { schemas } = z.toJSONSchema(CONTRACTS, JSON_SCHEMA_OPTIONS);
  return {
    ...document,
    openapi: '3.1.0',
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
      schemas: {
        ...(Object.fromEntries(Object.entries(schemas).map(([id, schema]) => [id, bare(schema)])) as Record<
          string,
          SchemaObject
        >),
        ...(domain as Record<string, SchemaObject>),
      },
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
    ...statuses.map((status) => ApiResponse({ status, description: ERRORS[status], schema: refTo(ERROR) })),
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
    schema: refTo(ERROR),
  });

/** `unknown` when an answer has no top-level field its schema lacks; else a type naming them (closed schemas refuse them). */
type Undocumented<Answer, Documented> = Answer extends unknown ? Exclude<keyof Answer, keyof Documented> : never;
type NoUndocumentedFields<Answer, Documented> = [Undocumented<Answer, Documented>] extends [never]
  ? unknown
  : { undocumentedFields: Undocumented<Answer, Documented> };

/**
 * A success answer with a named schema; the method must return (a promise of) the schema's type and no top-level field
 * the schema lacks, so a controller and its documented answer cannot drift apart without the typecheck failing.
 */
export const ApiAnswer =
  <S extends z.ZodType>(status: number, schema: S, description = 'OK') =>
  <M extends (...args: never[]) => z.output<S> | Promise<z.output<S>>>(
    target: object,
    key: string | symbol,
    descriptor: TypedPropertyDescriptor<M> & NoUndocumentedFields<Awaited<ReturnType<M>>, z.output<S>>,
  ): void => {
    ApiResponse({ status, description, schema: refTo(schema) })(target, key, descriptor);
  };

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
/** `?minPosition=`: its form is checked where it is read (ReadSide, QUERY.INVALID_MIN_POSITION). */
export const minPosition = z.string().optional().meta({
  pattern: PATTERNS.position,
  description: 'wait (up to 5 s) until the read models reached this global position; empty or absent: no wait',
});
/** `?asOf=`: its form is checked in the controller (AUDIT.INVALID_AS_OF). */
export const asOf = z.string().optional().meta({
  pattern: PATTERNS.asOf,
  description: 'a global position or an ISO-8601 instant: the view as it was then, rebuilt from history',
});
export const MinPositionQuery = () => ApiQueryOf(z.object({ minPosition }));
export const AsOfQuery = () => ApiQueryOf(z.object({ asOf }));
