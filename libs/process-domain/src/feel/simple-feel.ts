import { parseExpression } from 'feelin';
import type { SyntaxNode } from '@lezer/common';
import { FORBIDDEN_KEYS, isPlainObject } from '../entity/validate-envelope';

/**
 * A fast path for the expressions most definitions use: comparisons of record fields with literals,
 * joined by and/or. feelin parses (and walks its builtins) on every call, which dominated the cost
 * of matching triggers; these expressions are compiled once into a closure instead.
 *
 * It is exact by construction: it handles only the value types whose FEEL semantics it implements
 * (number with number, string with string, boolean and null equality, three-valued and/or) and
 * answers BAIL for anything else, so the caller evaluates that one call with feelin. A differential
 * test compares it with feelin over generated expressions and values.
 */
export const BAIL: unique symbol = Symbol('bail');
export type Simple = (context: Record<string, unknown>) => unknown;

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;
const NUMBER = /^-?\d+(\.\d+)?$/;
const memo = new Map<string, Simple | null>();

/** The compiled expression, or null when it is outside the subset (evaluate it with feelin). */
export function compileSimple(expression: string): Simple | null {
  const cached = memo.get(expression);
  if (cached !== undefined) return cached;
  let compiled: Simple | null = null;
  try {
    const tree = parseExpression(expression, {}, undefined);
    let broken = false;
    tree.iterate({
      enter(node) {
        if (node.type.isError) broken = true;
      },
    });
    if (!broken) compiled = compileNode(tree.topNode, expression);
  } catch {
    compiled = null;
  }
  if (memo.size >= 10_000) memo.clear();
  memo.set(expression, compiled);
  return compiled;
}

function children(node: SyntaxNode): SyntaxNode[] {
  const out: SyntaxNode[] = [];
  for (let child = node.firstChild; child; child = child.nextSibling) out.push(child);
  return out;
}

function compileNode(node: SyntaxNode, text: string): Simple | null {
  const source = text.slice(node.from, node.to);
  const kids = children(node);
  switch (node.name) {
    case 'Expression':
      return kids.length === 1 ? compileNode(kids[0]!, text) : null;
    case 'ParenthesizedExpression': {
      const inner = kids.filter((k) => k.name !== '(' && k.name !== ')');
      return inner.length === 1 ? compileNode(inner[0]!, text) : null;
    }
    case 'NumericLiteral': {
      if (kids.length > 0 || !NUMBER.test(source)) return null;
      const value = Number(source);
      return () => value;
    }
    case 'StringLiteral': {
      if (!/^"[^"\\]*"$/.test(source)) return null; // escapes: leave them to feelin
      const value = source.slice(1, -1);
      return () => value;
    }
    case 'BooleanLiteral': {
      const value = source === 'true';
      return () => value;
    }
    case 'null':
      return () => null;
    case 'VariableName':
    case 'PathExpression': {
      const path = pathOf(node, text);
      return path ? (context) => resolve(context, path) : null;
    }
    case 'Comparison': {
      if (kids.length !== 3 || kids[1]!.name !== 'CompareOp') return null;
      const left = compileNode(kids[0]!, text);
      const right = compileNode(kids[2]!, text);
      const op = text.slice(kids[1]!.from, kids[1]!.to);
      if (!left || !right || !['=', '!=', '<', '<=', '>', '>='].includes(op)) return null;
      return (context) => {
        const a = left(context);
        if (a === BAIL) return BAIL;
        const b = right(context);
        if (b === BAIL) return BAIL;
        return compare(op, a, b);
      };
    }
    case 'Conjunction':
    case 'Disjunction': {
      const operands = kids.filter((k) => k.name !== 'and' && k.name !== 'or');
      if (operands.length !== 2 || kids.length !== 3) return null;
      const left = compileNode(operands[0]!, text);
      const right = compileNode(operands[1]!, text);
      if (!left || !right) return null;
      const conjunction = node.name === 'Conjunction';
      return (context) => {
        const a = left(context);
        if (a === BAIL || (a !== null && typeof a !== 'boolean')) return BAIL;
        const b = right(context);
        if (b === BAIL || (b !== null && typeof b !== 'boolean')) return BAIL;
        if (conjunction) return a === false || b === false ? false : a === true && b === true ? true : null;
        return a === true || b === true ? true : a === false && b === false ? false : null;
      };
    }
    default:
      return null;
  }
}

/** `entity.status` → ['entity', 'status']; anything but plain identifiers is outside the subset. */
function pathOf(node: SyntaxNode, text: string): string[] | null {
  if (node.name === 'VariableName') {
    const name = text.slice(node.from, node.to);
    return IDENTIFIER.test(name) ? [name] : null;
  }
  if (node.name !== 'PathExpression') return null;
  const kids = children(node);
  if (kids.length !== 3 || kids[1]!.name !== '.' || kids[2]!.name !== 'PathName') return null;
  const head = pathOf(kids[0]!, text);
  const segment = text.slice(kids[2]!.from, kids[2]!.to);
  return head && IDENTIFIER.test(segment) ? [...head, segment] : null;
}

function resolve(context: Record<string, unknown>, path: string[]): unknown {
  let value: unknown = context;
  for (const segment of path) {
    if (value === null || value === undefined) return null;
    if (!isPlainObject(value)) return BAIL; // a path over a list or a scalar: feelin's rules apply
    if (FORBIDDEN_KEYS.has(segment)) return null; // the evaluation context never holds these keys
    value = Object.prototype.hasOwnProperty.call(value, segment) ? value[segment] : null;
  }
  if (value === undefined) return null;
  if (value !== null && typeof value === 'object') return BAIL; // contexts and lists: feelin compares them
  return value;
}

function compare(op: string, a: unknown, b: unknown): unknown {
  if (op === '=' || op === '!=') {
    let equal: boolean;
    if (a === null || b === null) equal = a === b;
    else if (typeof a === typeof b && (typeof a === 'number' || typeof a === 'string' || typeof a === 'boolean'))
      equal = a === b;
    else return BAIL;
    return op === '=' ? equal : !equal;
  }
  if (typeof a === 'number' && typeof b === 'number') {
    return op === '<' ? a < b : op === '<=' ? a <= b : op === '>' ? a > b : a >= b;
  }
  if (typeof a === 'string' && typeof b === 'string') {
    return op === '<' ? a < b : op === '<=' ? a <= b : op === '>' ? a > b : a >= b;
  }
  return BAIL;
}
