/**
 * FEEL's regular expressions on the linear-time engine: the wall time of matches, replace and split for the
 * ReDoS corpus (test/corpus/redos-patterns.json), the two patterns of issue 11 and some deliberately costly
 * programs, each at the largest input the step budget admits (up to the 64 Ki input limit). The worst row is
 * the figure to read: the budget (FEEL_BUDGET.patternUnitsPerStep) is calibrated so it stays near a quarter of a
 * second. Not a test. Run: npm run -s build && node dist/bench/feel-regex.bench.js
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { evaluateFeel, FEEL_BUDGET } from '@lifeline/process-domain';
import { ROOT } from './lib/lifeline-server';
import { markdownTable } from './lib/measure';

interface Case {
  name: string;
  pattern: string;
  input: { prefix: string; repeat: string; count: number; suffix: string };
}

const NOW = '2026-11-21T10:00:00Z';
const corpus = JSON.parse(readFileSync(join(ROOT, 'test/corpus/redos-patterns.json'), 'utf8')) as Case[];
const costly: Case[] = [
  { name: 'issue 11: ^(a|aa)*$', pattern: '^(a|aa)*$', input: { prefix: '', repeat: 'a', count: 42, suffix: '!' } },
  {
    name: 'issue 11: ^a*a*a*a*a*$',
    pattern: '^a*a*a*a*a*$',
    input: { prefix: '', repeat: 'a', count: 200, suffix: '!' },
  },
  {
    name: 'large program (?:a?){500}a{500}',
    pattern: '(?:a?){500}a{500}',
    input: { prefix: '', repeat: 'a', count: 1, suffix: '' },
  },
  {
    name: 'Unicode classes (?i)(?:\\pL?){300}\\pL{300}!',
    pattern: '(?i)(?:\\pL?){300}\\pL{300}!',
    input: { prefix: '', repeat: 'a', count: 1, suffix: '' },
  },
  {
    name: 'Unicode classes (?i)(?:\\pL?){300}\\pL{300}$',
    pattern: '(?i)(?:\\pL?){300}\\pL{300}$',
    input: { prefix: '', repeat: 'a', count: 1, suffix: '' },
  },
  {
    name: 'Unicode classes (?i)\\pL{900}',
    pattern: '(?i)\\pL{900}',
    input: { prefix: '', repeat: 'é', count: 1, suffix: '' },
  },
  {
    name: 'quadratic find-all a*b|a (replace, split)',
    pattern: 'a*b|a',
    input: { prefix: '', repeat: 'a', count: 1, suffix: '' },
  },
  {
    name: 'many matches \\s+ (replace, split)',
    pattern: '\\s+',
    input: { prefix: '', repeat: 'word ', count: 1, suffix: '' },
  },
];

const CALLS = {
  matches: 'matches(entity.text, entity.pattern)',
  replace: 'replace(entity.text, entity.pattern, "-")',
  split: 'count(split(entity.text, entity.pattern))',
} as const;

const text = (c: Case, count: number) => c.input.prefix + c.input.repeat.repeat(count) + c.input.suffix;
const run = (call: string, c: Case, count: number) =>
  evaluateFeel(call, { entity: { text: text(c, count), pattern: c.pattern } }, NOW);

/** The largest repeat count (doubling, then bisecting) whose evaluation the budget admits, up to the input limit. */
function largestAdmitted(call: string, c: Case): number | undefined {
  const limit = Math.floor(
    (FEEL_BUDGET.maxPatternInput - c.input.prefix.length - c.input.suffix.length) / c.input.repeat.length,
  );
  let ok = 0;
  let over = limit + 1;
  for (let n = Math.min(c.input.count, limit); n <= limit; n = Math.min(n * 2, n === limit ? limit + 1 : limit)) {
    if (run(call, c, n).ok) ok = n;
    else {
      over = n;
      break;
    }
    if (n === limit) break;
  }
  if (ok === 0) return undefined;
  while (over - ok > Math.max(1, ok / 64)) {
    const mid = Math.floor((ok + over) / 2);
    if (run(call, c, mid).ok) ok = mid;
    else over = mid;
  }
  return ok;
}

function main(): void {
  const rows: { case: string; call: string; chars: number; coldMs: number; warmMs: number; value: string }[] = [];
  for (const c of [...corpus, ...costly]) {
    for (const [call, expression] of Object.entries(CALLS)) {
      const count = largestAdmitted(expression, c);
      if (count === undefined) continue;
      const cold = performance.now();
      const outcome = run(expression, c, count);
      const coldMs = performance.now() - cold;
      let warmMs = Infinity;
      for (let i = 0; i < 3; i++) {
        const started = performance.now();
        run(expression, c, count);
        warmMs = Math.min(warmMs, performance.now() - started);
      }
      const value = outcome.ok ? JSON.stringify(outcome.value).slice(0, 12) : outcome.code;
      rows.push({ case: c.name, call, chars: text(c, count).length, coldMs, warmMs, value });
    }
  }
  rows.sort((a, b) => b.coldMs - a.coldMs);
  console.log(
    markdownTable(
      ['case', 'call', 'input chars', 'first run ms', 'best of 3 ms', 'value'],
      ['l', 'l', 'r', 'r', 'r', 'l'],
      rows.map((r) => [r.case, r.call, String(r.chars), r.coldMs.toFixed(1), r.warmMs.toFixed(1), r.value]),
    ),
  );
  const worst = rows[0]!;
  console.log(
    `\nworst case: ${worst.call} on "${worst.case}", ${worst.chars} characters: ${worst.coldMs.toFixed(1)} ms`,
  );
  mkdirSync(join(ROOT, 'bench/results'), { recursive: true });
  const file = join(ROOT, 'bench/results', `feel-regex-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, JSON.stringify({ at: new Date().toISOString(), node: process.version, rows }, null, 2));
}

main();
