import type { ValidationIssue } from '../errors';

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

/** Keys that would let data reach an object's prototype once copied or merged elsewhere. */
export const FORBIDDEN_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);
/** A UTF-16 surrogate without its pair cannot be stored as UTF-8: SQLite would turn it into U+FFFD, so ids could collide. */
export const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
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
export const stringBound = (text: string): number => 6 * text.length + 2;

/** The longest JSON text of a finite number is 24 characters (`-1.7976931348623157e+308`); room to spare. */
const NUMBER_BOUND = 32;

/** An issue's path: a key of an object, an index of an array. */
const pathOf = (parent: string, key: string | number): string =>
  typeof key === 'number' ? `${parent}[${key}]` : `${parent}.${key}`;

/**
 * Copies `data` while checking it; stops descending where a limit is already broken. Paths are
 * made only for an issue or a nested value, and a bound of the JSON size is summed on the way.
 */
export class DataWalk {
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
        this.issues.push({ path: pathOf(path, key), message: `the key '${key}' is not allowed` });
        continue;
      }
      if (key.length > this.limits.maxStringLength) {
        this.issues.push({ path, message: `a key is longer than ${this.limits.maxStringLength} characters` });
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
        this.issues.push({ path, message: `is nested deeper than ${this.limits.maxDepth} levels` });
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
    this.issues.push({ path, message: 'must be a JSON value (string, number, boolean, null, array or object)' });
    return undefined;
  }

  private countEntry(path: string): boolean {
    this.entries++;
    if (this.entries <= this.limits.maxKeys) return true;
    if (!this.tooManyReported) {
      this.tooManyReported = true;
      this.issues.push({ path, message: `data has more than ${this.limits.maxKeys} keys and items in total` });
    }
    return false;
  }
}
