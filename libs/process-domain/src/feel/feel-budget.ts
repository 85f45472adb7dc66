import { FeelFunction, FeelRange, parseExpression } from 'feelin';
import type { SyntaxNode } from '@lezer/common';

/**
 * A FEEL evaluation runs on a step budget instead of a wall clock: the same expression over the same record
 * always passes or always fails, so a replay of history decides exactly as the first run did.
 *
 * What costs steps: every element a range enumerates (for/some/every over `1..n`), every pass over a list taken
 * from the context or returned by a builtin (iteration, filter, projection), and every function call (ten steps, plus the
 * length of the lists and strings handed to it). User-defined recursion pays one step per call. A regular-expression
 * search pays for its program size × the characters it may read (feel-regex.ts).
 * What is refused before evaluation (at publish and at run time): literal ranges larger than the budget or with
 * bounds that are not safe integers (feelin never stops on `1..1.5`), and iterations or filters over names bound
 * inside the expression (context entries, function parameters), whose lists the budget cannot see.
 */
export const FEEL_BUDGET = {
  /** Steps one evaluation may take. */
  maxSteps: 50_000,
  /** Steps one function call costs on top of the size of its arguments (a call is about ten iterations' work). */
  stepsPerCall: 10,
  /** Elements of one literal list used as an iteration source or filter target (not metered at run time). */
  maxLiteralListItems: 100,
  /** Characters of a string handed to a regular-expression builtin (matches, replace, split): an envelope's string limit. */
  maxPatternInput: 65_536,
  /** Characters of a regular expression (compiling is not metered, so its size is bounded). */
  maxPatternLength: 1_000,
  /** Program instructions × input characters one step pays for in a regex search (about 250 ns of the worst case each). */
  patternUnitsPerStep: 20,
  /** Characters of a result (strings and lists counted by their JSON size, roughly). */
  maxResultSize: 1_000_000,
};

export class FeelBudgetExceeded extends Error {
  readonly code = 'FEEL.BUDGET_EXCEEDED';
}

interface Meter {
  steps: number;
}

/** Evaluation is synchronous, so one meter at a time is all there is. */
let meter: Meter | undefined;

/** Pays `steps` from the running evaluation's budget (a no-op outside one). */
export function chargeSteps(steps: number, what: string): void {
  if (meter === undefined) return;
  meter.steps += steps;
  if (meter.steps > FEEL_BUDGET.maxSteps) {
    throw new FeelBudgetExceeded(`the expression takes more than ${FEEL_BUDGET.maxSteps} steps (${what})`);
  }
}

/** Runs `evaluate` with a fresh meter; nested calls keep the outer meter. */
export function withFeelBudget<T>(evaluate: () => T): T {
  if (meter !== undefined) return evaluate();
  meter = { steps: 0 };
  try {
    return evaluate();
  } finally {
    meter = undefined;
  }
}

/**
 * A list from the context: every pass over it costs its length. Array methods build results of the same class
 * (Symbol.species), so filters and projections of a metered list are metered too.
 */
export class MeteredList<T = unknown> extends Array<T> {}

export function meteredList<T>(items: readonly T[]): MeteredList<T> {
  const list = new MeteredList<T>();
  for (let i = 0; i < items.length; i++) list.push(items[i]);
  return list;
}

type ArrayMethod =
  | 'map'
  | 'filter'
  | 'reduce'
  | 'forEach'
  | 'some'
  | 'every'
  | 'find'
  | 'findIndex'
  | 'indexOf'
  | 'includes'
  | 'join'
  | 'slice'
  | 'concat'
  | 'sort'
  | 'flat'
  | 'reverse';
const METERED_METHODS: ArrayMethod[] = [
  'map',
  'filter',
  'reduce',
  'forEach',
  'some',
  'every',
  'find',
  'findIndex',
  'indexOf',
  'includes',
  'join',
  'slice',
  'concat',
  'sort',
  'flat',
  'reverse',
];

for (const name of METERED_METHODS) {
  const original = Array.prototype[name] as (...args: unknown[]) => unknown;
  Object.defineProperty(MeteredList.prototype, name, {
    configurable: true,
    writable: true,
    value: function metered(this: unknown[], ...args: unknown[]) {
      chargeSteps(this.length, `a pass over a list of ${this.length}`);
      return original.apply(this, args);
    },
  });
}
Object.defineProperty(MeteredList.prototype, Symbol.iterator, {
  configurable: true,
  writable: true,
  value: function meteredIterator(this: unknown[]) {
    chargeSteps(this.length, `a pass over a list of ${this.length}`);
    return Array.prototype[Symbol.iterator].call(this);
  },
});

/**
 * feelin enumerates a range through FeelRange#map and calls every function through FeelFunction#invoke;
 * both are exported classes, so metering them covers ranges, builtins and user functions alike.
 */
function installMeters(): void {
  const marker = Symbol.for('lifeline.feel.metered');
  const rangeProto = FeelRange.prototype as unknown as Record<string | symbol, unknown>;
  if (rangeProto[marker]) return;
  rangeProto[marker] = true;

  const originalMap = FeelRange.prototype.map;
  FeelRange.prototype.map = function meteredMap(this: FeelRange, fn: (value: unknown) => unknown) {
    const size = enumeratedSize(this);
    if (size !== undefined) chargeSteps(size, `a range of ${size}`);
    return originalMap.call(this, fn as never);
  } as typeof FeelRange.prototype.map;

  const originalInvoke = FeelFunction.prototype.invoke;
  FeelFunction.prototype.invoke = function meteredInvoke(this: FeelFunction, contextOrArgs: unknown) {
    const args = Array.isArray(contextOrArgs) ? contextOrArgs : Object.values(contextOrArgs as object);
    chargeSteps(FEEL_BUDGET.stepsPerCall + argumentSize(args), 'function calls');
    const result: unknown = originalInvoke.call(this, contextOrArgs as never);
    // Builtin results are new lists; metering them keeps later passes over them counted.
    return Array.isArray(result) && !(result instanceof MeteredList) ? meteredList(result) : result;
  } as typeof FeelFunction.prototype.invoke;
}
installMeters();

/** How many elements a range enumerates; refuses what feelin could not finish. */
function enumeratedSize(range: FeelRange): number | undefined {
  const { start, end } = range as unknown as { start: unknown; end: unknown };
  if (typeof start !== 'number' || typeof end !== 'number') return undefined;
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end)) {
    throw new FeelBudgetExceeded(`the range ${String(range)} does not have whole-number bounds, so it never ends`);
  }
  return Math.abs(end - start) + 1;
}

function argumentSize(args: unknown[]): number {
  let size = 0;
  for (const arg of args) {
    if (Array.isArray(arg)) size += arg.length;
    else if (typeof arg === 'string') size += Math.floor(arg.length / 100);
  }
  return size;
}

/**
 * Why an expression cannot run within the budget whatever the record holds, or undefined.
 * Reads the parse tree only; the expression must already parse.
 */
export function budgetProblem(expression: string): string | undefined {
  const tree = parseExpression(expression, {}, undefined);
  const text = (node: SyntaxNode) => expression.slice(node.from, node.to).trim();
  const boundInside = new Set<string>();
  tree.iterate({
    enter(ref) {
      if (ref.name === 'ContextEntry') {
        const key = ref.node.getChild('Key');
        if (key) boundInside.add(text(key).replace(/^"|"$/g, ''));
      }
      if (ref.name === 'FormalParameter') {
        const name = ref.node.getChild('ParameterName') ?? ref.node.firstChild;
        if (name) boundInside.add(text(name));
      }
    },
  });

  let problem: string | undefined;
  let literalProduct = 1;
  const checkSource = (node: SyntaxNode | null, role: string) => {
    if (!node || problem) return;
    if (node.name === 'ParenthesizedExpression') return checkSource(node.getChild('(')?.nextSibling ?? null, role);
    if (node.name === 'SimplePositiveUnaryTest') return checkSource(node.firstChild, role);
    if (node.name === 'Interval') {
      const bounds = node.getChildren('NumericLiteral');
      if (bounds.length === 2) checkLiteralRange(text(bounds[0]), text(bounds[1]));
      return;
    }
    if (node.name === 'List') {
      const items = countListItems(node);
      if (items > FEEL_BUDGET.maxLiteralListItems) {
        problem = `a literal list of ${items} items is used as ${role}; the limit is ${FEEL_BUDGET.maxLiteralListItems}`;
        return;
      }
      literalProduct *= Math.max(items, 1);
      if (literalProduct > FEEL_BUDGET.maxLiteralListItems) {
        problem = `iterations over literal lists multiply to more than ${FEEL_BUDGET.maxLiteralListItems}`;
      }
      return;
    }
    if (node.name === 'FilterExpression') return checkSource(node.firstChild, role);
    if (node.name === 'PathExpression' || node.name === 'VariableName') {
      let root: SyntaxNode = node;
      while (root.name === 'PathExpression' && root.firstChild) root = root.firstChild;
      if (root.name === 'VariableName' && boundInside.has(text(root))) {
        problem = `'${text(root)}' is bound inside the expression and used as ${role}; iterate over the record, a range or a builtin's result`;
      }
      if (root.name !== 'VariableName') checkSource(root, role);
    }
  };
  const checkLiteralRange = (from: string, to: string) => {
    const start = Number(from);
    const end = Number(to);
    if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end)) {
      problem = `the range ${from}..${to} does not have whole-number bounds`;
    } else if (Math.abs(end - start) + 1 > FEEL_BUDGET.maxSteps) {
      problem = `the range ${from}..${to} has ${Math.abs(end - start) + 1} elements, more than the budget of ${FEEL_BUDGET.maxSteps} steps`;
    }
  };

  tree.iterate({
    enter(ref) {
      if (problem) return false;
      const node = ref.node;
      if (ref.name === 'IterationContext') {
        const parts = node.getChildren('NumericLiteral');
        if (node.getChild('..') && parts.length === 2) checkLiteralRange(text(parts[0]), text(parts[1]));
        else if (!node.getChild('..')) checkSource(node.firstChild, 'an iteration source');
      } else if (ref.name === 'FilterExpression') {
        checkSource(node.firstChild, 'a filter target');
      }
      return undefined;
    },
  });
  return problem;
}

function countListItems(list: SyntaxNode): number {
  let items = 0;
  for (let child = list.firstChild; child; child = child.nextSibling) {
    if (child.name !== '[' && child.name !== ']' && child.name !== ',') items++;
  }
  return items;
}
