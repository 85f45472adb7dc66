import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { EventStore } from '@lifeline/event-store';

/** One hostile request from test/corpus/*.json: a JSON body (with generators) or raw text, and the answer expected. */
export interface CorpusCase {
  name: string;
  body?: unknown;
  raw?: string;
  contentType?: string;
  action?: string;
  /** Who sends it, when not the suite's usual caller (an admin may reassign any task). */
  as?: string;
  status: number;
  code?: string;
}

export const CORPUS_DIR = join(__dirname, '..', 'corpus');

export function loadCorpus<T = CorpusCase>(file: string): T[] {
  return JSON.parse(readFileSync(join(CORPUS_DIR, file), 'utf8')) as T[];
}

const envelope = (id: string) => ({
  id,
  entityType: 'Invoice',
  entityId: `INV-${id}`,
  kind: 'created',
  occurredAt: '2026-11-21T10:00:00Z',
  data: { amount: 1, ownerId: 'alice', status: 'New' },
});

/**
 * Generators keep huge inputs out of the JSON files: "$repeat:c:n" (n copies of c), "$nest:n" (n nested objects),
 * "$keys:n" (an object with n keys), "$batch:n" (n valid envelopes), "$activities:n" (n end activities, `a` first).
 */
export function expand(value: unknown): unknown {
  if (typeof value === 'string') {
    const [generator, a, b] = value.split(':');
    if (generator === '$repeat') return a.repeat(Number(b));
    if (generator === '$nest') return `\u0000NEST:${a}`;
    if (generator === '$keys') return Object.fromEntries(Array.from({ length: Number(a) }, (_, i) => [`k${i}`, i]));
    if (generator === '$batch') return Array.from({ length: Number(a) }, (_, i) => envelope(`batch-${i}`));
    if (generator === '$activities') {
      return Object.fromEntries(
        Array.from({ length: Number(a) }, (_, i) => [i === 0 ? 'a' : `a${i}`, { type: 'end' }]),
      );
    }
    return value;
  }
  if (Array.isArray(value)) return value.map(expand);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, expand(item)]));
  }
  return value;
}

/** The request body text of a case; deep nesting is written by hand since JSON.stringify would recurse. */
export function bodyText(testCase: CorpusCase): string {
  if (testCase.raw !== undefined) return testCase.raw;
  // "$nest:n" is spliced in as text: thousands of levels would overflow JSON.stringify's recursion.
  return JSON.stringify(expand(testCase.body)).replace(/"\\u0000NEST:(\d+)"/g, (_match, levels: string) => {
    const n = Number(levels);
    return '{"n":'.repeat(n) + '"leaf"' + '}'.repeat(n);
  });
}

/** The store's head and a hash over every event (position, stream, type, data, metadata): what must never change. */
export async function fingerprint(store: EventStore): Promise<{ head: number; hash: string; count: number }> {
  const hash = createHash('sha256');
  let from = 0;
  let count = 0;
  for (;;) {
    const page = await store.readAll(from, 1000);
    if (page.length === 0) break;
    for (const event of page) hash.update(JSON.stringify(event));
    count += page.length;
    from = page[page.length - 1].position;
  }
  return { head: await store.headPosition(), hash: hash.digest('hex'), count };
}
