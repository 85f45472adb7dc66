import type { ValidationIssue } from '../errors';
import type { EntityEventKind } from '../definition/definition';
import type { EntityEventEnvelope } from './envelope';

/** Bounds on what one envelope may carry, so a hostile producer cannot exhaust the engine. */
export interface EnvelopeLimits {
  /** UTF-8 size of the JSON text (checked by parseEnvelopeJson). */
  maxBytes: number;
  /** Nesting depth inside `data` (`data` itself is depth 1). */
  maxDepth: number;
  /** Length of any string inside `data`, keys included. */
  maxStringLength: number;
  /** Keys of all objects plus items of all arrays inside `data`, together. */
  maxKeys: number;
}

export const DEFAULT_ENVELOPE_LIMITS: EnvelopeLimits = {
  maxBytes: 256 * 1024,
  maxDepth: 32,
  maxStringLength: 64 * 1024,
  maxKeys: 10_000,
};

export type EnvelopeValidation = { ok: true; envelope: EntityEventEnvelope } | { ok: false; issues: ValidationIssue[] };

const ENVELOPE_KEYS = ['id', 'entityType', 'entityId', 'kind', 'occurredAt', 'data', 'changed'] as const;
const KNOWN_KEYS: ReadonlySet<string> = new Set(ENVELOPE_KEYS);
const REQUIRED_KEYS = ['id', 'entityType', 'entityId', 'kind', 'occurredAt', 'data'] as const;
const KINDS: readonly EntityEventKind[] = ['created', 'updated', 'deleted'];
const ENTITY_TYPE = /^[A-Za-z][A-Za-z0-9_]{0,99}$/;
const CONTROL_CHARACTER = /[\u0000-\u001f\u007f-\u009f]/;
/** A UTF-16 surrogate without its pair cannot be stored as UTF-8: SQLite would turn it into U+FFFD, so ids could collide. */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
const ISO_DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(?:Z|[+-](\d{2}):(\d{2}))$/;
/** Keys that would let data reach an object's prototype once copied or merged elsewhere. */
export const FORBIDDEN_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);
const MAX_ID_LENGTH = 200;

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

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

/** Checks an untrusted value against the envelope contract; lists every problem, by path. */
export function validateEnvelope(input: unknown, limits: EnvelopeLimits = DEFAULT_ENVELOPE_LIMITS): EnvelopeValidation {
  if (!isPlainObject(input)) {
    return {
      ok: false,
      issues: [{ path: '', message: 'must be a JSON object' }],
    };
  }
  const issues: ValidationIssue[] = [];
  for (const key of Object.keys(input)) {
    if (!KNOWN_KEYS.has(key)) issues.push({ path: key, message: `unknown key '${key}'` });
  }
  for (const key of REQUIRED_KEYS) {
    if (!Object.prototype.hasOwnProperty.call(input, key)) issues.push({ path: key, message: 'is required' });
  }
  const { id, entityType, entityId, kind, occurredAt, data, changed } = input;

  if (id !== undefined) checkIdentifierString('id', id, issues, false);
  if (entityId !== undefined) checkIdentifierString('entityId', entityId, issues, true);
  if (entityType !== undefined && (typeof entityType !== 'string' || !ENTITY_TYPE.test(entityType))) {
    issues.push({
      path: 'entityType',
      message: 'must match /^[A-Za-z][A-Za-z0-9_]{0,99}$/',
    });
  }
  if (kind !== undefined && !(typeof kind === 'string' && (KINDS as readonly string[]).includes(kind))) {
    issues.push({
      path: 'kind',
      message: 'must be one of created, updated, deleted',
    });
  }
  if (occurredAt !== undefined && (typeof occurredAt !== 'string' || !isIsoDateTimeWithZone(occurredAt))) {
    issues.push({
      path: 'occurredAt',
      message: 'must be an ISO-8601 date-time with a zone, e.g. 2026-11-21T10:00:00Z',
    });
  }
  let dataCopy: Record<string, unknown> | undefined;
  let dataBound = 0;
  if (data !== undefined) {
    if (!isPlainObject(data)) {
      issues.push({
        path: 'data',
        message: 'must be an object (not an array, not null)',
      });
    } else {
      const walk = new DataWalk(limits, issues);
      dataCopy = walk.copyObject(data, 'data', 1);
      dataBound = walk.jsonBound;
    }
  }
  let changedCopy: string[] | undefined;
  if (changed !== undefined) {
    if (!Array.isArray(changed)) {
      issues.push({
        path: 'changed',
        message: 'must be an array of field names',
      });
    } else {
      if (changed.length > limits.maxKeys) {
        issues.push({
          path: 'changed',
          message: `must list at most ${limits.maxKeys} fields`,
        });
      }
      changed.slice(0, limits.maxKeys).forEach((field: unknown, index) => {
        if (typeof field !== 'string' || field.length === 0) {
          issues.push({
            path: `changed[${index}]`,
            message: 'must be a non-empty string',
          });
        } else if (field.length > limits.maxStringLength) {
          issues.push({
            path: `changed[${index}]`,
            message: `must be at most ${limits.maxStringLength} characters`,
          });
        }
      });
      changedCopy = [...(changed as string[])];
    }
  }

  // Over HTTP the envelope arrives parsed: measure it as the JSON text a Kafka value would be, once
  // a bound of that size says it could be too large (valid fields are strings, `changed` strings).
  if (issues.length === 0 && dataBound + stringsBound(input) > limits.maxBytes) {
    const bytes = utf8Length(JSON.stringify(input), limits.maxBytes);
    if (bytes > limits.maxBytes)
      issues.push({ path: '', message: `the envelope is larger than ${limits.maxBytes} bytes (${bytes} bytes)` });
  }
  if (issues.length > 0) return { ok: false, issues };
  const envelope: EntityEventEnvelope = {
    id: id as string,
    entityType: entityType as string,
    entityId: entityId as string,
    kind: kind as EntityEventKind,
    occurredAt: occurredAt as string,
    data: dataCopy as Record<string, unknown>,
  };
  if (changedCopy !== undefined) envelope.changed = changedCopy;
  return { ok: true, envelope };
}

/** Parses the JSON text of one envelope (HTTP body or Kafka value) and validates it. */
export function parseEnvelopeJson(text: string, limits: EnvelopeLimits = DEFAULT_ENVELOPE_LIMITS): EnvelopeValidation {
  const bytes = utf8Length(text, limits.maxBytes);
  if (bytes > limits.maxBytes) {
    return {
      ok: false,
      issues: [
        {
          path: '',
          message: `the message is larger than ${limits.maxBytes} bytes (${bytes} bytes)`,
        },
      ],
    };
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return {
      ok: false,
      issues: [{ path: '', message: `the message is not valid JSON: ${reason}` }],
    };
  }
  return validateEnvelope(parsed, limits);
}

/** Checks free-form record data (task fields, instance variables) with the envelope's rules: keys, depth, sizes, Unicode. */
export function checkRecordData(
  data: Record<string, unknown>,
  path: string,
  limits: EnvelopeLimits = DEFAULT_ENVELOPE_LIMITS,
): ValidationIssue[] {
  if (!isPlainObject(data)) return [{ path, message: 'must be a plain object' }];
  const issues: ValidationIssue[] = [];
  new DataWalk(limits, issues).copyObject(data, path, 1);
  return issues;
}

/**
 * A bound of the UTF-8 size of a string's JSON text: each UTF-16 unit becomes at most 6 bytes (an
 * escape `\u001f`; a character takes at most 3, a surrogate pair 4), and the quotes.
 */
const stringBound = (text: string): number => 6 * text.length + 2;

/** A bound of the JSON size of a valid envelope without its data: its string fields, `changed`, punctuation. */
function stringsBound(input: Record<string, unknown>): number {
  let bound = 2;
  for (const key of Object.keys(input)) {
    const value = input[key];
    bound += stringBound(key) + 2;
    if (typeof value === 'string') bound += stringBound(value);
    else if (Array.isArray(value)) for (const item of value) bound += stringBound(item as string) + 1;
    bound += 2;
  }
  return bound;
}

/** UTF-8 byte length; cheap bounds first so a huge text is refused without encoding all of it. */
function utf8Length(text: string, maxBytes: number): number {
  // Every UTF-16 unit encodes to at least 1 and at most 3 UTF-8 bytes.
  if (text.length > maxBytes) return text.length;
  if (text.length * 3 <= maxBytes) return text.length;
  return new TextEncoder().encode(text).length;
}

/** Why `value` cannot be a record's id (as an envelope's `entityId` would be refused), or undefined. */
export function entityIdProblem(value: unknown): string | undefined {
  const issues: ValidationIssue[] = [];
  checkIdentifierString('entityId', value, issues, true);
  return issues[0]?.message;
}

function checkIdentifierString(path: string, value: unknown, issues: ValidationIssue[], refuseControl: boolean): void {
  if (typeof value !== 'string' || value.length === 0) {
    issues.push({ path, message: 'must be a non-empty string' });
  } else if (value.length > MAX_ID_LENGTH) {
    issues.push({
      path,
      message: `must be at most ${MAX_ID_LENGTH} characters`,
    });
  } else if (refuseControl && CONTROL_CHARACTER.test(value)) {
    issues.push({ path, message: 'must not contain control characters' });
  } else if (LONE_SURROGATE.test(value)) {
    issues.push({ path, message: 'must be well-formed Unicode (a lone surrogate was found)' });
  }
}

/** The longest JSON text of a finite number is 24 characters (`-1.7976931348623157e+308`); room to spare. */
const NUMBER_BOUND = 32;

/** An issue's path: a key of an object, an index of an array. */
const pathOf = (parent: string, key: string | number): string =>
  typeof key === 'number' ? `${parent}[${key}]` : `${parent}.${key}`;

/**
 * Copies `data` while checking it; stops descending where a limit is already broken. Paths are
 * made only for an issue or a nested value, and a bound of the JSON size is summed on the way.
 */
class DataWalk {
  private entries = 0;
  private tooManyReported = false;
  /** At least the UTF-8 size of the JSON text of what was copied. */
  jsonBound = 0;

  constructor(
    private readonly limits: EnvelopeLimits,
    private readonly issues: ValidationIssue[],
  ) {}

  copyObject(source: Record<string, unknown>, path: string, depth: number): Record<string, unknown> {
    const copy: Record<string, unknown> = {};
    this.jsonBound += 2;
    for (const key of Object.keys(source)) {
      if (!this.countEntry(path)) break;
      if (FORBIDDEN_KEYS.has(key)) {
        this.issues.push({
          path: pathOf(path, key),
          message: `the key '${key}' is not allowed`,
        });
        continue;
      }
      if (key.length > this.limits.maxStringLength) {
        this.issues.push({
          path,
          message: `a key is longer than ${this.limits.maxStringLength} characters`,
        });
        continue;
      }
      this.jsonBound += stringBound(key) + 2;
      copy[key] = this.copyValue(source[key], path, key, depth);
    }
    return copy;
  }

  /** Checks and copies the value at `key` of the object or array at `parent`. */
  private copyValue(value: unknown, parent: string, key: string | number, parentDepth: number): unknown {
    if (value === null || typeof value === 'boolean') {
      this.jsonBound += 5;
      return value;
    }
    if (typeof value === 'number') {
      if (!Number.isFinite(value)) this.issues.push({ path: pathOf(parent, key), message: 'must be a finite number' });
      this.jsonBound += NUMBER_BOUND;
      return value;
    }
    if (typeof value === 'string') {
      if (value.length > this.limits.maxStringLength) {
        this.issues.push({
          path: pathOf(parent, key),
          message: `is longer than ${this.limits.maxStringLength} characters`,
        });
      } else if (LONE_SURROGATE.test(value)) {
        this.issues.push({
          path: pathOf(parent, key),
          message: 'must be well-formed Unicode (a lone surrogate was found)',
        });
      }
      this.jsonBound += stringBound(value);
      return value;
    }
    const path = pathOf(parent, key);
    const depth = parentDepth + 1;
    if (Array.isArray(value) || isPlainObject(value)) {
      if (depth > this.limits.maxDepth) {
        this.issues.push({
          path,
          message: `is nested deeper than ${this.limits.maxDepth} levels`,
        });
        return undefined;
      }
      if (Array.isArray(value)) {
        const copy: unknown[] = [];
        this.jsonBound += 2;
        for (let index = 0; index < value.length; index++) {
          if (!this.countEntry(path)) break;
          this.jsonBound += 1;
          copy.push(this.copyValue(value[index], path, index, depth));
        }
        return copy;
      }
      return this.copyObject(value, path, depth);
    }
    this.issues.push({
      path,
      message: 'must be a JSON value (string, number, boolean, null, array or object)',
    });
    return undefined;
  }

  private countEntry(path: string): boolean {
    this.entries++;
    if (this.entries <= this.limits.maxKeys) return true;
    if (!this.tooManyReported) {
      this.tooManyReported = true;
      this.issues.push({
        path,
        message: `data has more than ${this.limits.maxKeys} keys and items in total`,
      });
    }
    return false;
  }
}
