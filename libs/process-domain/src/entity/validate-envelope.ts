import { validationIssues } from '../contract/issues';
import type { ValidationIssue } from '../errors';
import {
  entityEventEnvelopeSchema,
  entityIdSchema,
  utf8Length,
  withEnvelopeLimits,
  type EntityEventEnvelope,
} from './envelope';
import { DEFAULT_ENVELOPE_LIMITS, type EnvelopeLimits, isPlainObject } from './record-data';

export { isIsoDateTimeWithZone } from './envelope';
export {
  checkRecordData,
  DEFAULT_ENVELOPE_LIMITS,
  FORBIDDEN_KEYS,
  isPlainObject,
  type EnvelopeLimits,
} from './record-data';

export type EnvelopeValidation = { ok: true; envelope: EntityEventEnvelope } | { ok: false; issues: ValidationIssue[] };

const REQUIRED_KEYS = ['id', 'entityType', 'entityId', 'kind', 'occurredAt', 'data'];
// The values are checked in this order (the envelope keeps its keys in the schema's).
const VALUE_ORDER = ['id', 'entityId', 'entityType', 'kind', 'occurredAt', 'data', 'changed'];
const unknownKey = (key: string) => ({ message: `unknown key '${key}'` });

/** Checks an untrusted value against the envelope contract (entityEventEnvelopeSchema); lists every problem, by path. */
export function validateEnvelope(input: unknown, limits: EnvelopeLimits = DEFAULT_ENVELOPE_LIMITS): EnvelopeValidation {
  // A class instance is no JSON object, though zod's object would read its fields.
  if (!isPlainObject(input)) return { ok: false, issues: [{ path: '', message: 'must be a JSON object' }] };
  const result = withEnvelopeLimits(limits, () => entityEventEnvelopeSchema.safeParse(input));
  if (result.success) return { ok: true, envelope: result.data };
  return { ok: false, issues: inReadingOrder(validationIssues(result.error.issues, unknownKey)) };
}

/** Unknown keys first, then the missing ones, then the wrong values, each in the order the contract reads them. */
function inReadingOrder(issues: ValidationIssue[]): ValidationIssue[] {
  const rank = (issue: ValidationIssue) => {
    if (issue.message.startsWith('unknown key')) return 0;
    if (issue.message === 'is required') return 1 + REQUIRED_KEYS.indexOf(issue.path);
    const field = /^[A-Za-z]*/.exec(issue.path)![0];
    return 1 + REQUIRED_KEYS.length + (field === '' ? VALUE_ORDER.length : VALUE_ORDER.indexOf(field));
  };
  return issues
    .map((issue, index) => ({ issue, index, rank: rank(issue) }))
    .sort((a, b) => a.rank - b.rank || a.index - b.index)
    .map(({ issue }) => issue);
}

/** Parses the JSON text of one envelope (HTTP body or Kafka value) and validates it. */
export function parseEnvelopeJson(text: string, limits: EnvelopeLimits = DEFAULT_ENVELOPE_LIMITS): EnvelopeValidation {
  const bytes = utf8Length(text, limits.maxBytes);
  if (bytes > limits.maxBytes) {
    return {
      ok: false,
      issues: [{ path: '', message: `the message is larger than ${limits.maxBytes} bytes (${bytes} bytes)` }],
    };
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return { ok: false, issues: [{ path: '', message: `the message is not valid JSON: ${reason}` }] };
  }
  return validateEnvelope(parsed, limits);
}

/** Why `value` cannot be a record's id (as an envelope's `entityId` would be refused), or undefined. */
export function entityIdProblem(value: unknown): string | undefined {
  if (typeof value !== 'string') return 'must be a non-empty string';
  const result = entityIdSchema.safeParse(value);
  return result.success ? undefined : result.error.issues[0]!.message;
}
