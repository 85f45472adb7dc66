import { z } from 'zod';
import { ENTITY_EVENT_KINDS, ENTITY_TYPE, requiredOr } from '../contract/names';
import type { ValidationIssue } from '../errors';
import {
  DataWalk,
  DEFAULT_ENVELOPE_LIMITS,
  type EnvelopeLimits,
  isPlainObject,
  LONE_SURROGATE,
  stringBound,
} from './record-data';

const MAX_ID_LENGTH = 200;
const NO_CONTROL_CHARACTER = /^[^\u0000-\u001f\u007f-\u009f]*$/;
const ISO_DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(?:Z|[+-](\d{2}):(\d{2}))$/;

let lastValidDateTime = '';

/** An ISO-8601 date-time with a zone, on a real calendar day (Date.parse alone accepts Feb 30). */
export function isIsoDateTimeWithZone(text: string): boolean {
  // The instant most calls of one moment share (a batch's time, the clock's now).
  if (text === lastValidDateTime) return true;
  const m = ISO_DATE_TIME.exec(text);
  if (!m) return false;
  const month = Number(m[2]);
  const day = Number(m[3]);
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(Number(m[1]), month)) return false;
  if (Number(m[4]) > 23 || Number(m[5]) > 59) return false;
  if ((m[6] !== undefined && Number(m[6]) > 59) || (m[7] !== undefined && Number(m[7]) > 23)) return false;
  if (m[8] !== undefined && Number(m[8]) > 59) return false;
  if (Number.isNaN(Date.parse(text))) return false;
  lastValidDateTime = text;
  return true;
}

/** Days of a month (1–12) of the proleptic Gregorian calendar Date uses: year 0 is a leap year, 1900 is not. */
function daysInMonth(year: number, month: number): number {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

// Zod has no per-call context: the limits of the (synchronous) parse in progress, set by withEnvelopeLimits.
let limits: EnvelopeLimits = DEFAULT_ENVELOPE_LIMITS;
let dataBound = 0;

/** Runs `parse` with `active` as the envelope schema's limits (the defaults otherwise). */
export function withEnvelopeLimits<T>(active: EnvelopeLimits, parse: () => T): T {
  const previous = limits;
  limits = active;
  try {
    return parse();
  } finally {
    limits = previous;
  }
}

const ENTITY_TYPE_TEXT = `must match ${String(ENTITY_TYPE)}`;
const OCCURRED_AT = 'must be an ISO-8601 date-time with a zone, e.g. 2026-11-21T10:00:00Z';
// An envelope's null is a wrong value, not a missing one.
const present = (message: string) => requiredOr(message, false);
const NON_EMPTY = 'must be a non-empty string';
const WELL_FORMED = 'must be well-formed Unicode (a lone surrogate was found)';
const CONTROL_CHARACTER = /[\u0000-\u001f\u007f-\u009f]/;
/**
 * A string field's checks as one function (the envelope is read on every ingest: one check per field costs less
 * than a chain of them); `json` is what its JSON Schema says of them.
 */
const checked = (problem: (text: string) => string | undefined, json: Record<string, unknown>) =>
  z
    .string({ error: present(NON_EMPTY) })
    .check((ctx) => {
      const message = problem(ctx.value);
      if (message !== undefined) ctx.issues.push({ code: 'custom', message, input: ctx.value });
    })
    .meta(json);
const identifierProblem = (refuseControl: boolean) => (text: string) => {
  if (text.length === 0) return NON_EMPTY;
  if (text.length > MAX_ID_LENGTH) return `must be at most ${MAX_ID_LENGTH} characters`;
  if (refuseControl && CONTROL_CHARACTER.test(text)) return 'must not contain control characters';
  if (LONE_SURROGATE.test(text)) return WELL_FORMED;
  return undefined;
};
const ID_LENGTH = { minLength: 1, maxLength: MAX_ID_LENGTH };

/** A record's id: what an envelope's `entityId` accepts. */
export const entityIdSchema = checked(identifierProblem(true), { ...ID_LENGTH, pattern: NO_CONTROL_CHARACTER.source });

/** Record data: a plain JSON object within the limits, copied while it is checked (hand-written: the limits). */
const recordDataSchema = z
  .custom<Record<string, unknown>>(isPlainObject, { error: present('must be an object (not an array, not null)') })
  .transform((data, ctx) => {
    const issues: ValidationIssue[] = [];
    const walk = new DataWalk(limits, issues);
    const copy = walk.copyObject(data, 'data', 1);
    dataBound = walk.jsonBound;
    for (const { path, message } of issues) ctx.issues.push({ code: 'custom', message, input: data, params: { path } });
    return copy;
  })
  .meta({ description: 'the record after the change: plain JSON, without __proto__/constructor/prototype keys' });

const fieldName = z
  .string({ error: NON_EMPTY })
  .check((ctx) => {
    // The message now: zod words its issues after the parse, when these limits are no longer set.
    const field = ctx.value;
    const message =
      field.length === 0
        ? NON_EMPTY
        : field.length > limits.maxStringLength
          ? `must be at most ${limits.maxStringLength} characters`
          : undefined;
    if (message !== undefined) ctx.issues.push({ code: 'custom', message, input: field });
  })
  .meta({ minLength: 1 });

const changedSchema = z.preprocess(
  (value, ctx) => {
    // Refused before its items are read: a huge list is no list of fields.
    if (Array.isArray(value) && value.length > limits.maxKeys) {
      ctx.issues.push({ code: 'custom', message: `must list at most ${limits.maxKeys} fields`, input: value });
    }
    return value;
  },
  z.array(fieldName, { error: 'must be an array of field names' }),
);

/** The input contract (docs/architecture.md, "Entity event envelope"): what an application says happened to one of its records. */
export const entityEventEnvelopeSchema = z
  .strictObject(
    {
      id: checked(identifierProblem(false), {
        ...ID_LENGTH,
        description: 'unique per producer event: the same id twice is recorded once',
      }),
      entityType: z.string({ error: present(ENTITY_TYPE_TEXT) }).regex(ENTITY_TYPE, ENTITY_TYPE_TEXT),
      entityId: entityIdSchema,
      kind: z.enum(ENTITY_EVENT_KINDS, { error: present('must be one of created, updated, deleted') }),
      occurredAt: z
        .string({ error: present(OCCURRED_AT) })
        .check((ctx) => {
          if (!isIsoDateTimeWithZone(ctx.value))
            ctx.issues.push({ code: 'custom', message: OCCURRED_AT, input: ctx.value });
        })
        .meta({ description: 'ISO-8601 date-time with a zone; seconds optional (so not RFC 3339 date-time)' }),
      data: recordDataSchema,
      changed: changedSchema.optional(),
    },
    { error: 'must be a JSON object' },
  )
  .check((ctx) => {
    // Over HTTP the envelope arrives parsed: measure it as the JSON text a Kafka value would be, once
    // a bound of that size says it could be too large (valid fields are strings, `changed` strings).
    if (dataBound + stringsBound(ctx.value) <= limits.maxBytes) return;
    const bytes = utf8Length(JSON.stringify(ctx.value), limits.maxBytes);
    if (bytes > limits.maxBytes) {
      const message = `the envelope is larger than ${limits.maxBytes} bytes (${bytes} bytes)`;
      ctx.issues.push({ code: 'custom', message, input: ctx.value });
    }
  });

export type EntityEventEnvelope = z.output<typeof entityEventEnvelopeSchema>;

/** A bound of the JSON size of a valid envelope without its data: its string fields, `changed`, punctuation. */
function stringsBound(envelope: Record<string, unknown>): number {
  let bound = 2;
  for (const key of Object.keys(envelope)) {
    const value = envelope[key];
    bound += stringBound(key) + 2;
    if (typeof value === 'string') bound += stringBound(value);
    else if (Array.isArray(value)) for (const item of value) bound += stringBound(item as string) + 1;
    bound += 2;
  }
  return bound;
}

/** UTF-8 byte length; cheap bounds first so a huge text is refused without encoding all of it. */
export function utf8Length(text: string, maxBytes: number): number {
  // Every UTF-16 unit encodes to at least 1 and at most 3 UTF-8 bytes.
  if (text.length > maxBytes) return text.length;
  if (text.length * 3 <= maxBytes) return text.length;
  return new TextEncoder().encode(text).length;
}

/** Where an envelope came from; Kafka fills topic/partition/offset. */
export type EntityEventSource =
  { kind: 'http' } | { kind: 'kafka'; topic: string; partition: number; offset: string } | { kind: 'api' };

export const entityStreamName = (entityType: string, entityId: string): string => `entity-${entityType}-${entityId}`;
