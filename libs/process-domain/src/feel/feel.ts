import {
  date,
  dateAndTime,
  evaluate,
  FeelDate,
  FeelDateTime,
  FeelDuration,
  FeelFunction,
  FeelTime,
  isFunction,
  isRange,
  parseExpression,
  SyntaxError as FeelSyntaxError,
} from 'feelin';
import type { SyntaxNode, Tree } from '@lezer/common';
import { FORBIDDEN_KEYS, isIsoDateTimeWithZone, isPlainObject } from '../entity/validate-envelope';
import { budgetProblem, FEEL_BUDGET, FeelBudgetExceeded, meteredList, withFeelBudget } from './feel-budget';
import { FeelPatternError, literalPatternProblem, PATTERN_BUILTINS } from './feel-regex';

export { FEEL_BUDGET } from './feel-budget';
import { BAIL, compileSimple } from './simple-feel';

/** What an expression can see: `entity`, `record`, `vars`, one entry per finished activity. Plain JSON values. */
export type FeelContext = Record<string, unknown>;

export type FeelErrorCode =
  | 'FEEL.SYNTAX'
  | 'FEEL.EVALUATION'
  | 'FEEL.TOO_LARGE'
  | 'FEEL.BUDGET_EXCEEDED'
  | 'FEEL.INVALID_PATTERN'
  | 'FEEL.UNSUPPORTED_PATTERN';

export type FeelOutcome = { ok: true; value: unknown } | { ok: false; code: FeelErrorCode; message: string };

export type ConditionOutcome =
  { ok: true; value: boolean; seen: Record<string, unknown> } | { ok: false; code: string; message: string };

export const FEEL_LIMITS = {
  maxExpressionLength: 4000,
  /** Nesting of values going in and coming out; deeper parts are cut off (input) or refused (output). */
  maxValueDepth: 64,
};

/** Parsing dominates evaluation cost; results that depend on the expression alone are memoised. */
const MEMO_LIMIT = 10_000;
const syntaxMemo = new Map<string, string | undefined>();
const pathsMemo = new Map<string, string[]>();
const budgetMemo = new Map<string, string | undefined>();
const remember = <V>(memo: Map<string, V>, key: string, value: V): V => {
  if (memo.size >= MEMO_LIMIT) memo.clear();
  memo.set(key, value);
  return value;
};

/** A name FEEL reads the same in every context. One object: a literal in the loop would make one per key. */
const PLAIN_NAME = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/** Names with spaces change how FEEL parses; without them the parse is the same for every context. */
function hasSpacedKeys(value: unknown, depth = 0): boolean {
  if (depth > 4 || value === null || typeof value !== 'object') return false;
  if (Array.isArray(value)) return false;
  // Keys, not entries: no [key, value] pair allocated per key of every object walked.
  const keys = Object.keys(value);
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i]!;
    if (!PLAIN_NAME.test(key)) return true;
    if (hasSpacedKeys((value as Record<string, unknown>)[key], depth + 1)) return true;
  }
  return false;
}

/**
 * The part of the context on the given paths. Descends only through plain objects: at a list or a
 * scalar the whole value is kept, so FEEL's path-on-list semantics (`items.price`) are unchanged.
 */
function pruneTo(context: FeelContext, paths: string[]): FeelContext {
  const pruned: Record<string, unknown> = {};
  for (const path of paths) {
    const segments = path.split('.');
    let from: unknown = context;
    let to: Record<string, unknown> = pruned;
    for (let i = 0; i < segments.length; i++) {
      const key = segments[i]!;
      if (!isPlainObject(from) || !Object.prototype.hasOwnProperty.call(from, key)) break;
      const value = from[key];
      const last = i === segments.length - 1;
      if (last || !isPlainObject(value)) {
        to[key] = value;
        break;
      }
      const existing = to[key];
      if (existing === value) break; // already copied whole by a shorter path
      to = (isPlainObject(existing) ? existing : (to[key] = {})) as Record<string, unknown>;
      from = value;
    }
  }
  return pruned;
}

let lastValidNow = '';
/** Same check as prepare(), remembered for the instant most calls share. */
function isValidNow(now: string): boolean {
  if (now === lastValidNow) return true;
  if (typeof now !== 'string' || !isIsoDateTimeWithZone(now)) return false;
  lastValidNow = now;
  return true;
}

/**
 * The syntax error of an expression, why it cannot run within the budget, or why a literal regular expression in it
 * cannot run; undefined when it is fine. Evaluates nothing.
 */
export function checkFeel(expression: string): string | undefined {
  if (typeof expression === 'string' && syntaxMemo.has(expression)) return syntaxMemo.get(expression);
  const error = checkFeelUncached(expression);
  return typeof expression === 'string' ? remember(syntaxMemo, expression, error) : error;
}

function checkFeelUncached(expression: string): string | undefined {
  return syntaxProblem(expression) ?? staticBudgetProblem(expression) ?? literalPatternProblem(expression);
}

function syntaxProblem(expression: string): string | undefined {
  if (typeof expression !== 'string') return 'the expression must be a string';
  if (expression.length > FEEL_LIMITS.maxExpressionLength) {
    return `the expression is longer than ${FEEL_LIMITS.maxExpressionLength} characters`;
  }
  if (expression.trim() === '') return 'the expression is empty';
  let tree: Tree;
  try {
    tree = parseExpression(expression, {}, undefined);
  } catch (error) {
    return messageOf(error);
  }
  return firstSyntaxError(tree, expression);
}

function staticBudgetProblem(expression: string): string | undefined {
  if (budgetMemo.has(expression)) return budgetMemo.get(expression);
  return remember(budgetMemo, expression, budgetProblem(expression));
}

/** Evaluates one FEEL expression; never throws. `now` (ISO instant) is what now() and today() answer. */
export function evaluateFeel(expression: string, context: FeelContext, now: string): FeelOutcome {
  return evaluateWith(expression, context, now, hasSpacedKeys(context));
}

/** `evaluateFeel` for a context already walked for names with spaces (`spaced`). */
function evaluateWith(expression: string, context: FeelContext, now: string, spaced: boolean): FeelOutcome {
  if (
    typeof expression === 'string' &&
    expression.length <= FEEL_LIMITS.maxExpressionLength &&
    !spaced &&
    isValidNow(now)
  ) {
    const simple = compileSimple(expression);
    if (simple) {
      const value = simple(context);
      if (value !== BAIL) return { ok: true, value };
    }
  }
  // feelin walks the whole context for every parse; give it only what the expression reads.
  const input = spaced ? context : pruneTo(context, referencedPathsWith(expression, context, false));
  const prepared = prepare(expression, input, now);
  if (!prepared.ok) return prepared;
  const problem = checkFeel(expression);
  if (problem !== undefined && problem === staticBudgetProblem(expression)) {
    return { ok: false, code: 'FEEL.BUDGET_EXCEEDED', message: problem };
  }
  let raw: unknown;
  try {
    raw = withFeelBudget(() => evaluate(expression, prepared.context).value);
  } catch (error) {
    return {
      ok: false,
      code:
        error instanceof FeelBudgetExceeded
          ? 'FEEL.BUDGET_EXCEEDED'
          : error instanceof FeelPatternError
            ? error.code
            : error instanceof FeelSyntaxError
              ? 'FEEL.SYNTAX'
              : 'FEEL.EVALUATION',
      message: messageOf(error),
    };
  }
  try {
    return { ok: true, value: toPlain(raw, 0, { size: 0 }) };
  } catch (error) {
    if (error instanceof ResultTooLarge) return { ok: false, code: 'FEEL.TOO_LARGE', message: error.message };
    return { ok: false, code: 'FEEL.EVALUATION', message: messageOf(error) };
  }
}

/**
 * Evaluates a condition: true only when the result is exactly `true` (null, false or anything else is false).
 * `seen` holds the value of every path the expression reads (`entity.status`, `review.result`), the audit's "why".
 */
export function evaluateCondition(expression: string, context: FeelContext, now: string): ConditionOutcome {
  // The context is walked for names with spaces once, for the evaluation and for `seen`.
  const spaced = hasSpacedKeys(context);
  const outcome = evaluateWith(expression, context, now, spaced);
  if (!outcome.ok) return outcome;
  const seen: Record<string, unknown> = {};
  for (const path of referencedPathsWith(expression, context, spaced)) seen[path] = resolvePath(context, path);
  return { ok: true, value: outcome.value === true, seen };
}

/** `evaluateCondition` without `seen`, for a caller that only needs whether it holds (a trigger). */
export function testCondition(
  expression: string,
  context: FeelContext,
  now: string,
): { ok: true; value: boolean } | { ok: false; code: string; message: string } {
  const outcome = evaluateWith(expression, context, now, hasSpacedKeys(context));
  return outcome.ok ? { ok: true, value: outcome.value === true } : outcome;
}

/**
 * The dotted paths an expression reads from its context, outermost first-seen order, e.g.
 * `entity.status`, `review.result`. Names bound inside the expression (for, some/every, function
 * parameters, filter items) and called function names are left out.
 */
export function referencedPaths(expression: string, context: FeelContext = {}): string[] {
  return referencedPathsWith(expression, context, hasSpacedKeys(context));
}

function referencedPathsWith(expression: string, context: FeelContext, spaced: boolean): string[] {
  if (spaced) return referencedPathsUncached(expression, context);
  // Filter predicates read top-level names differently, so the top-level keys are part of the key.
  const key = `${expression}\u0000${Object.keys(context).sort().join(',')}`;
  const memo = pathsMemo.get(key);
  if (memo) return memo;
  return remember(pathsMemo, key, referencedPathsUncached(expression, context));
}

function referencedPathsUncached(expression: string, context: FeelContext): string[] {
  if (checkFeel(expression) !== undefined) return [];
  const tree = parseExpression(expression, context, undefined);
  const text = (node: SyntaxNode) => expression.slice(node.from, node.to);
  const bound = new Set<string>();
  tree.iterate({
    enter(ref) {
      if (ref.name === 'InExpression' || ref.name === 'FormalParameter') {
        const name = ref.node.getChild('Name') ?? ref.node.firstChild;
        if (name) bound.add(text(name).trim());
      }
    },
  });

  const paths: string[] = [];
  const add = (path: string[]) => {
    const dotted = path.join('.');
    if (!paths.includes(dotted)) paths.push(dotted);
  };
  tree.iterate({
    enter(ref) {
      const node = ref.node;
      if (ref.name !== 'VariableName') return;
      if (isCallee(node)) return;
      const root = text(node).trim();
      if (bound.has(root)) return;
      // Inside a filter's brackets, unknown bare names are fields of the filtered item.
      if (insideFilterPredicate(node) && !Object.prototype.hasOwnProperty.call(context, root)) return;
      const path = [root];
      let top = node;
      while (top.parent?.name === 'PathExpression' && top.parent.firstChild?.from === top.from) {
        const segment = top.parent.getChild('PathName');
        if (!segment) break;
        path.push(text(segment).trim());
        top = top.parent;
      }
      add(path);
    },
  });
  return paths;
}

function isCallee(node: SyntaxNode): boolean {
  const parent = node.parent;
  return (
    parent?.name === 'FunctionInvocation' && parent.firstChild?.from === node.from && parent.firstChild.to === node.to
  );
}

function insideFilterPredicate(node: SyntaxNode): boolean {
  for (let child = node, parent = node.parent; parent; child = parent, parent = parent.parent) {
    if (parent.name === 'FilterExpression' && parent.firstChild && child.from > parent.firstChild.from) return true;
  }
  return false;
}

/** Follows own properties only; anything missing is null. */
function resolvePath(context: FeelContext, path: string): unknown {
  let current: unknown = context;
  for (const segment of path.split('.')) {
    if (!isPlainObject(current) || !Object.prototype.hasOwnProperty.call(current, segment)) return null;
    current = current[segment];
  }
  return toInput(current, 0, false) ?? null;
}

type Prepared = { ok: true; context: Record<string, unknown> } | { ok: false; code: FeelErrorCode; message: string };

function prepare(expression: string, context: FeelContext, now: string): Prepared {
  if (typeof expression !== 'string' || expression.trim() === '') {
    return { ok: false, code: 'FEEL.SYNTAX', message: 'the expression is empty' };
  }
  if (expression.length > FEEL_LIMITS.maxExpressionLength) {
    return {
      ok: false,
      code: 'FEEL.TOO_LARGE',
      message: `the expression is longer than ${FEEL_LIMITS.maxExpressionLength} characters`,
    };
  }
  if (typeof now !== 'string' || !isIsoDateTimeWithZone(now)) {
    return { ok: false, code: 'FEEL.EVALUATION', message: `'${String(now)}' is not an ISO instant for now()` };
  }
  const instant = new Date(Date.parse(now)).toISOString();
  const plain = (toInput(context, 0) ?? {}) as Record<string, unknown>;
  // Context entries shadow feelin's builtins, so now() and today() answer the injected instant, not the host clock.
  plain.now = new FeelFunction(() => dateAndTime(instant), []);
  plain.today = new FeelFunction(() => date(instant.slice(0, 10)), []);
  // The regular-expression builtins run on RE2 (feel-regex.ts), never on feelin's backtracking RegExp.
  for (const [name, builtin] of PATTERN_BUILTINS) plain[name] = builtin;
  return { ok: true, context: plain };
}

/** A fresh copy holding only JSON values: no functions, no prototypes, no forbidden keys, bounded depth. */
function toInput(value: unknown, depth: number, metered = true): unknown {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return value;
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value.toISOString();
  if (depth >= FEEL_LIMITS.maxValueDepth) return null;
  if (Array.isArray(value)) {
    const items = Array.from(value, (item) => toInput(item, depth + 1, metered) ?? null);
    return metered ? meteredList(items) : items;
  }
  if (isPlainObject(value)) {
    const copy: Record<string, unknown> = {};
    for (const key of Object.keys(value)) {
      if (FORBIDDEN_KEYS.has(key)) continue;
      const item = toInput(value[key], depth + 1, metered);
      if (item !== undefined) copy[key] = item;
    }
    return copy;
  }
  return undefined;
}

class ResultTooLarge extends Error {}

/** feelin's result as something an event can store: temporals and durations as ISO strings, ranges as text. */
function toPlain(value: unknown, depth: number, size: { size: number }): unknown {
  size.size += typeof value === 'string' ? value.length + 2 : 8;
  if (size.size > FEEL_BUDGET.maxResultSize) {
    throw new ResultTooLarge(`the result is larger than ${FEEL_BUDGET.maxResultSize} characters`);
  }
  if (value === null || value === undefined) return null;
  if (typeof value === 'string' || typeof value === 'boolean') return value;
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  if (
    value instanceof FeelDate ||
    value instanceof FeelDateTime ||
    value instanceof FeelTime ||
    value instanceof FeelDuration
  ) {
    return value.toJSON();
  }
  if (isRange(value)) {
    const bound = (b: unknown) => (b === null || b === undefined ? '' : String(toPlain(b, depth + 1, size)));
    return `${value['start included'] ? '[' : '('}${bound(value.start)}..${bound(value.end)}${value['end included'] ? ']' : ')'}`;
  }
  if (isFunction(value) || typeof value === 'function') {
    throw new Error('the expression gives a function, which cannot be stored');
  }
  if (depth >= FEEL_LIMITS.maxValueDepth) {
    throw new ResultTooLarge(`the result is nested deeper than ${FEEL_LIMITS.maxValueDepth} levels`);
  }
  if (Array.isArray(value)) return Array.from(value, (item) => toPlain(item, depth + 1, size));
  if (typeof value === 'object') {
    const copy: Record<string, unknown> = {};
    for (const key of Object.keys(value)) {
      if (FORBIDDEN_KEYS.has(key)) continue;
      copy[key] = toPlain((value as Record<string, unknown>)[key], depth + 1, size);
    }
    return copy;
  }
  throw new Error(`the expression gives a value that cannot be stored (${typeof value})`);
}

/** The first error node of the parse tree, described with its line:column. */
function firstSyntaxError(tree: Tree, expression: string): string | undefined {
  let found: string | undefined;
  tree.iterate({
    enter(ref) {
      if (found !== undefined) return false;
      if (!ref.type.isError) return undefined;
      const node = ref.node;
      const parentName = node.parent?.name ?? 'expression';
      const at = node.from;
      found =
        node.from !== node.to
          ? `unrecognized '${expression.slice(node.from, node.to)}' in <${parentName}> at ${lineColumn(expression, at)}`
          : at >= expression.trimEnd().length
            ? `incomplete <${parentName}> at ${lineColumn(expression, at)}`
            : `unexpected '${expression.slice(at, at + 10).trim()}' in <${parentName}> at ${lineColumn(expression, at)}`;
      return false;
    },
  });
  return found;
}

function lineColumn(text: string, offset: number): string {
  const before = text.slice(0, offset).split('\n');
  return `${before.length}:${before[before.length - 1].length + 1}`;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
