import { evaluate, FeelFunction, parseExpression } from 'feelin';
import type { SyntaxNode } from '@lezer/common';
import { RE2JS } from 're2js';
import { chargeSteps, FEEL_BUDGET, FeelBudgetExceeded } from './feel-budget';

/**
 * FEEL's regular-expression builtins (matches, replace, split) on RE2 (re2js), a linear-time engine: no pattern
 * and no input can make a search backtrack. XQuery semantics (what FEEL refers to) as far as RE2 allows:
 * flags s, m, i, x; `.` does not match \n or \r without s; replacement `$N` / `\$` / `\\`; split keeps empty
 * pieces and never returns the captured groups. A pattern RE2 cannot run (back-references, lookaround) is an
 * error, never a fallback to a backtracking engine.
 *
 * Cost, in the FEEL budget's steps: a search costs (program size × characters it may read) / patternUnitsPerStep,
 * charged before it runs, so a replay decides exactly as the first run did. replace and split search once per
 * match (each search may read to the end of the input), so they pay that for every match they find.
 */
export type PatternErrorCode = 'FEEL.INVALID_PATTERN' | 'FEEL.UNSUPPORTED_PATTERN';

export class FeelPatternError extends Error {
  constructor(
    readonly code: PatternErrorCode,
    message: string,
  ) {
    super(message);
  }
}

interface Compiled {
  re: RE2JS;
  programSize: number;
}

const FLAG_BITS: Record<string, number> = { i: RE2JS.CASE_INSENSITIVE, s: RE2JS.DOTALL, m: RE2JS.MULTILINE, x: 0 };
/** Constructs a backtracking engine has and RE2 refuses: back-references, lookaround, atomic groups. */
const BACKTRACKING_ONLY = /\\[1-9]|\\k<|\(\?(?:=|!|<=|<!|>)/;

const MEMO_LIMIT = 1_000;
const compiled = new Map<string, Compiled | FeelPatternError>();

/** The compiled pattern, or throws FeelPatternError. Memoised: definitions use a few patterns over and over. */
export function compilePattern(pattern: string, flags: string): Compiled {
  const key = `${flags}\u0000${pattern}`;
  let entry = compiled.get(key);
  if (entry === undefined) {
    entry = compileUncached(pattern, flags);
    if (compiled.size >= MEMO_LIMIT) compiled.clear();
    compiled.set(key, entry);
  }
  if (entry instanceof FeelPatternError) throw entry;
  return entry;
}

function compileUncached(pattern: string, flags: string): Compiled | FeelPatternError {
  if (pattern.length > FEEL_BUDGET.maxPatternLength) {
    return new FeelPatternError(
      'FEEL.INVALID_PATTERN',
      `the pattern is longer than ${FEEL_BUDGET.maxPatternLength} characters (${pattern.length})`,
    );
  }
  let bits = 0;
  for (const flag of flags) {
    if (!(flag in FLAG_BITS)) {
      return new FeelPatternError(
        'FEEL.INVALID_PATTERN',
        `unknown flag '${flag}' in '${flags}'; the flags are s, m, i, x`,
      );
    }
    bits |= FLAG_BITS[flag]!;
  }
  try {
    const re = RE2JS.compile(toRe2(pattern, flags.includes('x'), flags.includes('s')), bits);
    return { re, programSize: re.programSize() };
  } catch (error) {
    const reason = error instanceof Error ? error.message.replace(/^error parsing regexp: /, '') : String(error);
    if (BACKTRACKING_ONLY.test(pattern)) {
      return new FeelPatternError(
        'FEEL.UNSUPPORTED_PATTERN',
        `the pattern '${clip(pattern)}' uses a back-reference or lookaround, which the linear-time regex engine does not run (${reason})`,
      );
    }
    return new FeelPatternError('FEEL.INVALID_PATTERN', `the pattern '${clip(pattern)}' is invalid: ${reason}`);
  }
}

/**
 * The pattern in RE2 syntax: with x, whitespace outside character classes is removed (XQuery); without s, `.`
 * excludes \r as well as \n (XQuery; RE2's `.` only excludes \n).
 */
function toRe2(pattern: string, extended: boolean, dotAll: boolean): string {
  let out = '';
  let inClass = false;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '\\') {
      out += pattern.slice(i, i + 2);
      i++;
    } else if (inClass) {
      if (c === '[' && pattern[i + 1] === ':') {
        const close = pattern.indexOf(':]', i + 2);
        const end = close < 0 ? i + 1 : close + 2;
        out += pattern.slice(i, end);
        i = end - 1;
      } else {
        if (c === ']') inClass = false;
        out += c;
      }
    } else if (c === '[') {
      inClass = true;
      out += c;
      // A `]` right after `[` or `[^` is a member, not the end of the class.
      if (pattern[i + 1] === '^') out += pattern[++i];
      if (pattern[i + 1] === ']') out += pattern[++i];
    } else if (extended && (c === ' ' || c === '\t' || c === '\n' || c === '\r')) {
      continue;
    } else if (c === '.' && !dotAll) {
      out += '[^\\n\\r]';
    } else {
      out += c;
    }
  }
  return out;
}

/** Pays for one search from `from` to the end of `input`, before it runs. */
function chargeSearch(name: string, compiledPattern: Compiled, input: string, from: number): void {
  const units = compiledPattern.programSize * (input.length - from + 1);
  chargeSteps(Math.ceil(units / FEEL_BUDGET.patternUnitsPerStep), `${name}() searching a pattern`);
}

function checkInput(name: string, input: string): void {
  if (input.length > FEEL_BUDGET.maxPatternInput) {
    throw new FeelBudgetExceeded(
      `${name}() was given ${input.length} characters, more than ${FEEL_BUDGET.maxPatternInput}`,
    );
  }
}

/**
 * feelin's argument rules for string parameters: a one-element list stands for its element; a required argument
 * that is missing, null or not a string makes the call null. Optional (trailing) ones may be null.
 */
function stringArgs(values: unknown[], required: number): (string | undefined)[] | null {
  const out: (string | undefined)[] = [];
  for (const [index, value] of values.entries()) {
    const single: unknown = Array.isArray(value) && value.length === 1 ? value[0] : value;
    if (typeof single === 'string') out.push(single);
    else if ((single === null || single === undefined) && index >= required) out.push(undefined);
    else return null;
  }
  return out;
}

export function matches(input: string, pattern: string, flags = ''): boolean {
  checkInput('matches', input);
  const p = compilePattern(pattern, flags);
  chargeSearch('matches', p, input, 0);
  return p.re.test(input);
}

export function replace(input: string, pattern: string, replacement: string, flags = ''): string {
  checkInput('replace', input);
  const p = compilePattern(pattern, flags);
  const parts = parseReplacement(replacement, p.re.groupCount());
  chargeSearch('replace', p, input, 0);
  // The linear-time test first: most inputs have no match, and then no position search is needed.
  if (!p.re.test(input)) return input;
  chargeSearch('replace', p, input, 0);
  const matcher = p.re.matcher(input);
  let out = '';
  let appended = 0;
  let from = 0;
  while (from <= input.length && matcher.find(from)) {
    const start = matcher.start();
    const end = matcher.end();
    out += input.slice(appended, start);
    for (const part of parts) out += typeof part === 'string' ? part : (matcher.group(part) ?? '');
    appended = end;
    from = end === start ? nextIndex(input, end) : end;
    if (from <= input.length) chargeSearch('replace', p, input, from);
  }
  return out + input.slice(appended);
}

/** Splits at every match (JavaScript's rules for empty matches), without adding the captured groups. */
export function split(input: string, pattern: string): string[] {
  checkInput('split', input);
  const p = compilePattern(pattern, '');
  chargeSearch('split', p, input, 0);
  if (input.length === 0) return p.re.testExact('') ? [] : [''];
  if (!p.re.test(input)) return [input];
  chargeSearch('split', p, input, 0);
  const matcher = p.re.matcher(input);
  const pieces: string[] = [];
  let last = 0;
  let from = 0;
  while (from < input.length && matcher.find(from)) {
    const start = matcher.start();
    const end = matcher.end();
    if (start >= input.length) break;
    if (end === last) {
      from = nextIndex(input, start);
    } else {
      pieces.push(input.slice(last, start));
      last = end;
      from = end;
    }
    if (from < input.length) chargeSearch('split', p, input, from);
  }
  pieces.push(input.slice(last));
  return pieces;
}

/** The index after the character at `i`, stepping over a whole surrogate pair. */
function nextIndex(input: string, i: number): number {
  return (input.codePointAt(i) ?? 0) > 0xffff ? i + 2 : i + 1;
}

/** XQuery's replacement string: `$N` is group N (as many digits as name a group), `\$` and `\\` escape. */
function parseReplacement(replacement: string, groups: number): (string | number)[] {
  const parts: (string | number)[] = [];
  let literal = '';
  for (let i = 0; i < replacement.length; i++) {
    const c = replacement[i]!;
    const next = replacement[i + 1];
    if (c === '\\' && (next === '\\' || next === '$')) {
      literal += next;
      i++;
    } else if (c === '$' && next !== undefined && next >= '0' && next <= '9') {
      let group = Number(next);
      i++;
      while (i + 1 < replacement.length && /[0-9]/.test(replacement[i + 1]!)) {
        const longer = group * 10 + Number(replacement[i + 1]);
        if (longer > groups) break;
        group = longer;
        i++;
      }
      if (literal) parts.push(literal);
      literal = '';
      // A single digit naming no group stands for nothing (XQuery).
      if (group <= groups) parts.push(group);
    } else {
      literal += c;
    }
  }
  if (literal) parts.push(literal);
  return parts;
}

function clip(text: string): string {
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/** The builtins as FEEL functions; they shadow feelin's own, which run JavaScript's backtracking RegExp. */
export const PATTERN_BUILTINS: ReadonlyMap<string, FeelFunction> = new Map([
  [
    'matches',
    new FeelFunction(
      (...args: unknown[]) => {
        const a = stringArgs([args[0], args[1], args[2]], 2);
        return a && matches(a[0]!, a[1]!, a[2]);
      },
      ['input', 'pattern', 'flags'],
    ),
  ],
  [
    'replace',
    new FeelFunction(
      (...args: unknown[]) => {
        const a = stringArgs([args[0], args[1], args[2], args[3]], 3);
        return a && replace(a[0]!, a[1]!, a[2]!, a[3]);
      },
      ['input', 'pattern', 'replacement', 'flags'],
    ),
  ],
  [
    'split',
    new FeelFunction(
      (...args: unknown[]) => {
        const a = stringArgs([args[0], args[1]], 2);
        return a && split(a[0]!, a[1]!);
      },
      ['string', 'delimiter'],
    ),
  ],
]);

/** Where the pattern and the flags are among each builtin's arguments (positional index and parameter name). */
const PATTERN_ARGUMENTS: Record<string, { pattern: [number, string]; flags?: [number, string] }> = {
  matches: { pattern: [1, 'pattern'], flags: [2, 'flags'] },
  replace: { pattern: [1, 'pattern'], flags: [3, 'flags'] },
  split: { pattern: [1, 'delimiter'] },
};

/**
 * Why a pattern written as a literal in the expression cannot run (invalid, or a construct RE2 refuses), so it is
 * refused at publish time; undefined when every literal pattern compiles. The expression must already parse.
 */
export function literalPatternProblem(expression: string): string | undefined {
  const tree = parseExpression(expression, {}, undefined);
  const text = (node: SyntaxNode) => expression.slice(node.from, node.to);
  let problem: string | undefined;
  tree.iterate({
    enter(ref) {
      if (problem !== undefined) return false;
      if (ref.name !== 'FunctionInvocation') return undefined;
      const callee = ref.node.firstChild;
      if (callee?.name !== 'VariableName') return undefined;
      const name = text(callee).trim();
      const where = PATTERN_ARGUMENTS[name];
      if (!where) return undefined;
      const argument = (position: [number, string] | undefined): SyntaxNode | null | undefined => {
        if (!position) return undefined;
        const positional = ref.node.getChild('PositionalParameters');
        if (positional) {
          const args: SyntaxNode[] = [];
          for (let child = positional.firstChild; child; child = child.nextSibling) {
            if (child.name !== ',') args.push(child);
          }
          return args[position[0]];
        }
        const named = ref.node.getChild('NamedParameters');
        for (let child = named?.firstChild; child; child = child.nextSibling) {
          if (child.name === 'NamedParameter' && text(child.getChild('ParameterName')!).trim() === position[1]) {
            return child.lastChild;
          }
        }
        return undefined;
      };
      const literal = (node: SyntaxNode | null | undefined): string | undefined | null =>
        node === undefined || node === null
          ? undefined
          : node.name === 'StringLiteral'
            ? (evaluate(text(node), {}).value as string)
            : null;
      const pattern = literal(argument(where.pattern));
      const flags = literal(argument(where.flags));
      if (typeof pattern !== 'string' || flags === null) return undefined;
      try {
        compilePattern(pattern, flags ?? '');
      } catch (error) {
        if (error instanceof FeelPatternError) problem = `${name}(): ${error.message} (${error.code})`;
        else throw error;
      }
      return undefined;
    },
  });
  return problem;
}
