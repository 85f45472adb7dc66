/**
 * The duplicate-key check every JSON request body and Kafka envelope goes through (findDuplicateKey with the
 * parsed value: keys written against keys held), against JSON.parse of the same 1 MiB text: parse + check must stay
 * within about twice the parse alone. The last column is the full scan that names the key and its path, which only
 * runs when the counts differ. Not a test. Run: npm run -s build && node dist/bench/json-duplicate-keys.bench.js
 */
import { performance } from 'node:perf_hooks';
import { findDuplicateKey } from '@lifeline/process-domain';
import { markdownTable } from './lib/measure';

const MiB = 1024 * 1024;

/** Repeats `item` in a JSON array until the text is about 1 MiB. */
const arrayOf = (item: (i: number) => unknown): string => {
  const items: string[] = [];
  let size = 2;
  for (let i = 0; size < MiB; i++) {
    const text = JSON.stringify(item(i));
    items.push(text);
    size += text.length + 1;
  }
  return `[${items.join(',')}]`;
};

const shapes: Record<string, string> = {
  'entity-event batch (1 KiB envelopes)': arrayOf((i) => ({
    id: `evt-${i}`,
    entityType: 'Invoice',
    entityId: `INV-${i}`,
    kind: 'updated',
    occurredAt: '2026-11-21T10:00:00Z',
    changed: ['status', 'amount'],
    data: {
      number: `INV-${i}`,
      amount: i * 1.5,
      status: 'New',
      ownerId: 'alice',
      lines: Array.from({ length: 8 }, (_, l) => ({ sku: `SKU-${l}`, qty: l, price: 9.99, note: 'x'.repeat(40) })),
    },
  })),
  'tiny objects, short keys': arrayOf((i) => ({ a: i, b: 1, c: null, d: true })),
  'one flat object, many keys': JSON.stringify(
    Object.fromEntries(Array.from({ length: 60_000 }, (_, i) => [`key${i}`, i])),
  ),
  'one 1 MiB string': JSON.stringify({ blob: 'x'.repeat(MiB) }),
  'escapes everywhere': arrayOf((i) => ({ 'k\u00e9y"\\': `line ${i}\n\t"quoted" \\ \u2028 é` })),
  'numbers, deep arrays': arrayOf((i) => [[[i, i + 0.5, -i]], [[1e10, 2, 3]]]),
};

/** The fastest of `rounds` runs: on a shared machine the minimum is the figure least disturbed by neighbours. */
function fastest(run: () => void, rounds = 25): number {
  let best = Infinity;
  for (let i = 0; i < rounds; i++) {
    const started = performance.now();
    run();
    best = Math.min(best, performance.now() - started);
  }
  return best;
}

const rows: string[][] = [];
for (const [name, text] of Object.entries(shapes)) {
  const parsed: unknown = JSON.parse(text);
  if (findDuplicateKey(text, parsed) !== undefined) throw new Error(`${name}: unexpected duplicate`);
  const parse = fastest(() => JSON.parse(text));
  // The check runs on the value the body parser already made: its cost is what comes on top of the parse.
  const check = fastest(() => findDuplicateKey(text, parsed));
  const scan = fastest(() => findDuplicateKey(text));
  rows.push([
    name,
    (text.length / MiB).toFixed(2),
    parse.toFixed(2),
    check.toFixed(2),
    ((parse + check) / parse).toFixed(2),
    scan.toFixed(2),
  ]);
}
console.log(
  markdownTable(
    ['shape', 'MiB', 'JSON.parse ms', 'check ms', '(parse + check) / parse', 'full scan ms'],
    ['l', 'r', 'r', 'r', 'r', 'r'],
    rows,
  ),
);
