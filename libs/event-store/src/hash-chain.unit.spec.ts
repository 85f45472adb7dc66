import { canonicalJson, computeEventHash } from './hash-chain';
import { OwnMetadataText, ownMetadata } from './store-rules';
import type { EventMetadataIn } from './event-store';

/** canonicalJson as it was first written (before the quoted-key cache): the text every stored hash covers. */
function referenceCanonicalJson(value: unknown): string {
  const quote = (text: string): string =>
    /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/.test(text) ? '"' + text + '"' : JSON.stringify(text);
  const walk = (v: unknown): string | undefined => {
    if (typeof v === 'string') return quote(v);
    if (typeof v === 'number') return Number.isFinite(v) ? String(v) : 'null';
    if (typeof v === 'boolean') return v ? 'true' : 'false';
    if (v === null) return 'null';
    if (typeof v === 'bigint') throw new TypeError('A bigint cannot be stored as JSON');
    if (typeof v !== 'object') return undefined;
    if (typeof (v as { toJSON?: unknown }).toJSON === 'function')
      return walk((v as { toJSON: () => unknown }).toJSON());
    if (Array.isArray(v)) {
      const items: string[] = [];
      for (let i = 0; i < v.length; i++) items.push(walk(v[i]) ?? 'null');
      return '[' + items.join(',') + ']';
    }
    if (v instanceof Number || v instanceof String || v instanceof Boolean) return walk(v.valueOf());
    const record = v as Record<string, unknown>;
    const parts: string[] = [];
    for (const key of Object.keys(record).sort()) {
      const text = walk(record[key]);
      if (text !== undefined) parts.push(quote(key) + ':' + text);
    }
    return '{' + parts.join(',') + '}';
  };
  return walk(value) ?? 'null';
}

/** A small seeded generator (mulberry32): the same values on every run. */
function seeded(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const awkwardStrings = [
  '',
  'plain',
  'é',
  '"quoted"',
  'back\\slash',
  'line\nbreak\ttab',
  '\u2028\u2029',
  '\u0000\u001f\u007f',
  '\ud800',
  'x\udc00y',
  '\ud83d\ude00',
  '日本語',
  'toJSON',
  '__proto__',
  '10',
  '9',
  '-1',
  '1.5',
  '4294967295',
  'a'.repeat(70),
];

function outcome(run: () => string): string {
  try {
    return run();
  } catch (error) {
    return `throws ${(error as Error).name}: ${(error as Error).message}`;
  }
}

function randomValue(next: () => number, depth: number): unknown {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!;
  const kind = Math.floor(next() * (depth > 3 ? 9 : 14));
  switch (kind) {
    case 0:
      return pick(awkwardStrings);
    case 1:
      return String.fromCharCode(...Array.from({ length: Math.floor(next() * 6) }, () => Math.floor(next() * 0x10000)));
    case 2:
      return pick([0, -0, 1, -1, 1.5, 1e21, 1e-7, 2 ** 53, NaN, Infinity, -Infinity, Math.floor(next() * 1e6)]);
    case 3:
      return next() < 0.5;
    case 4:
      return null;
    case 5:
      return undefined;
    case 6:
      return pick([() => 1, Symbol('s'), new Date(Math.floor(next() * 2e12)), new Date(NaN)]);
    case 7:
      return pick([new Number(3), new String('boxed'), new Boolean(false), { toJSON: () => ({ b: 1, a: [2] }) }]);
    case 8: {
      const text = pick(awkwardStrings);
      return { toJSON: () => text };
    }
    case 9:
    case 10: {
      const length = Math.floor(next() * 5);
      const array: unknown[] = Array.from({ length }, () => randomValue(next, depth + 1));
      if (next() < 0.1) array.length += 2; // holes
      return array;
    }
    default: {
      const record: Record<string, unknown> = next() < 0.1 ? (Object.create(null) as Record<string, unknown>) : {};
      const count = Math.floor(next() * 7);
      for (let i = 0; i < count; i++) {
        const key = next() < 0.5 ? pick(awkwardStrings) : `k${Math.floor(next() * 1000)}`;
        record[key] = randomValue(next, depth + 1);
      }
      return record;
    }
  }
}

describe('canonicalJson', () => {
  it('sorts keys recursively and writes no whitespace', () => {
    expect(canonicalJson({ b: 1, a: { d: [3, { z: true, y: null }], c: 'x' } })).toBe(
      '{"a":{"c":"x","d":[3,{"y":null,"z":true}]},"b":1}',
    );
  });

  it('reads the same value back as JSON.stringify would store it', () => {
    const value = {
      when: new Date('2026-11-21T10:00:00Z'),
      gone: undefined,
      list: [undefined, NaN, -0, 1e21],
      text: 'é "q" \n \u2028',
    };
    expect(JSON.parse(canonicalJson(value))).toEqual(JSON.parse(JSON.stringify(value)));
    expect(canonicalJson(JSON.parse(JSON.stringify(value)))).toBe(canonicalJson(value));
  });

  it('gives the reference text on varied values (unicode, lone surrogates, nesting, toJSON, undefined, NaN, Dates, key orders)', () => {
    const next = seeded(12);
    for (let i = 0; i < 20_000; i++) {
      const value = randomValue(next, 0);
      // A value whose toJSON throws (a Date prototype under `__proto__`) must throw the same way.
      expect(outcome(() => canonicalJson(value))).toBe(outcome(() => referenceCanonicalJson(value)));
    }
    // More distinct keys than the quoted-key cache holds, and keys longer than it keeps.
    const wide = Object.fromEntries(Array.from({ length: 6_000 }, (_, i) => [`key-${6_000 - i}`, i]));
    expect(canonicalJson(wide)).toBe(referenceCanonicalJson(wide));
    expect(canonicalJson({ ['k'.repeat(100)]: 1, ['\ud800'.repeat(80)]: 2 })).toBe(
      referenceCanonicalJson({ ['k'.repeat(100)]: 1, ['\ud800'.repeat(80)]: 2 }),
    );
    expect(() => canonicalJson({ a: 1n })).toThrow(TypeError);
  });

  it('OwnMetadataText gives canonicalJson(ownMetadata(id, metadata)) for every event of an append', () => {
    const next = seeded(34);
    const fieldNames = ['correlationId', 'causationId', 'actor', 'at', 'traceparent', 'messageId', 'hash', 'prevHash'];
    for (let i = 0; i < 5_000; i++) {
      const metadata: Record<string, unknown> = {};
      for (const name of [...fieldNames, ...awkwardStrings].filter(() => next() < 0.4)) {
        metadata[name] = next() < 0.7 ? `v${i}` : randomValue(next, 2);
      }
      const texts = new OwnMetadataText();
      for (const id of ['01a22bc9-ab1f-7998-b387-274f5753250e', 'é"\\ud800', '']) {
        const meta = metadata as unknown as EventMetadataIn;
        expect(outcome(() => texts.of(id, meta))).toBe(outcome(() => canonicalJson(ownMetadata(id, meta))));
      }
    }
  });

  it('gives the same text whatever the key order', () => {
    expect(canonicalJson({ amount: 1200, status: 'Open' })).toBe(canonicalJson({ status: 'Open', amount: 1200 }));
  });
});

describe('computeEventHash', () => {
  const event = {
    id: 'e-1',
    streamId: 'instance-1',
    revision: 0,
    type: 'InstanceStarted',
    data: { a: 1 },
    metadata: { actor: 'alice' },
  };

  it('depends on the previous hash and on every hashed field', () => {
    const hash = computeEventHash('', event);
    expect(hash).toMatch(/^[0-9a-f]{64}$/);
    expect(computeEventHash('', { ...event, data: { a: 2 } })).not.toBe(hash);
    expect(computeEventHash('', { ...event, revision: 1 })).not.toBe(hash);
    expect(computeEventHash('', { ...event, metadata: { actor: 'bob' } })).not.toBe(hash);
    expect(computeEventHash('x', event)).not.toBe(hash);
    expect(computeEventHash('', { ...event, data: { a: 1 } })).toBe(hash);
  });

  it('gives the hash stores already hold for the same content', () => {
    const stored = {
      id: '01a22bc9-ab1f-7f49-b5be-d1c46edad71d',
      streamId: 'instance-01a22bc9-ab1f-7bf7-8595-945396b996ef',
      revision: 2,
      type: 'TaskCreated',
      data: {
        taskId: 't.review.1',
        activityId: 'review',
        title: 'Révisez « la » facture \u2028 "q"',
        assignee: { role: 'accounting' },
        results: ['Approve', 'Reject'],
        form: [{ name: 'comment', type: 'text', required: false }],
        amount: 1200.5,
        n: -0,
        gone: undefined,
        when: new Date('2026-11-21T10:00:00Z'),
        '10': 'ten',
        '9': 'nine',
        lone: '\ud800x',
      },
      metadata: {
        correlationId: 'c',
        causationId: 'c',
        actor: 'system',
        at: '2026-11-30T09:29:26.565Z',
        messageId: '01a22bc9-ab1f-7f49-b5be-d1c46edad71d',
      },
    };
    // Computed by the code that wrote the first stores (before this file's fast paths).
    expect(computeEventHash('85130004932e5613ff850a0b45e420912b266171549ded51702016ec5750e38b', stored)).toBe(
      '31d5b37f352ec405c5a5c43f97deb09b452b400da5914216ba8ebdf55c5bf4f8',
    );
  });
});
