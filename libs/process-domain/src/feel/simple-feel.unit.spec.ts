import { evaluate } from 'feelin';
import { BAIL, compileSimple } from './simple-feel';

/** A small deterministic generator, so a failure names its seed. */
function random(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const VALUES: unknown[] = [
  0,
  1,
  -2.5,
  1200,
  10,
  '',
  'a',
  'b',
  'Approve',
  'ClearedForPayment',
  '10',
  true,
  false,
  null,
  [1],
  { x: 1 },
  undefined,
];
const LITERALS = ['0', '1', '-2.5', '1200', '10', '""', '"a"', '"b"', '"Approve"', '"10"', 'true', 'false', 'null'];
const PATHS = [
  'entity.amount',
  'entity.status',
  'entity.flag',
  'entity.missing',
  'entity.nested.x',
  'vars.count',
  'review.result',
  'entity',
  'nothing.at.all',
];
const OPS = ['=', '!=', '<', '<=', '>', '>='];

function expression(next: () => number, depth = 0): string {
  const pick = <T>(items: T[]) => items[Math.floor(next() * items.length)]!;
  if (depth < 2 && next() < 0.35) {
    const joined = `${expression(next, depth + 1)} ${pick(['and', 'or'])} ${expression(next, depth + 1)}`;
    return next() < 0.3 ? `(${joined})` : joined;
  }
  const operand = () => (next() < 0.55 ? pick(PATHS) : pick(LITERALS));
  return next() < 0.1 ? operand() : `${operand()} ${pick(OPS)} ${operand()}`;
}

function context(next: () => number): Record<string, unknown> {
  const pick = () => VALUES[Math.floor(next() * VALUES.length)];
  const entity: Record<string, unknown> = {
    amount: pick(),
    status: pick(),
    flag: pick(),
    nested: next() < 0.5 ? { x: pick() } : pick(),
  };
  for (const key of Object.keys(entity)) if (entity[key] === undefined) delete entity[key];
  return { entity, vars: { count: pick() }, review: { result: pick() } };
}

const feelin = (source: string, ctx: Record<string, unknown>): { value?: unknown; error?: true } => {
  try {
    return { value: evaluate(source, ctx).value };
  } catch {
    return { error: true };
  }
};

describe('the FEEL fast path agrees with feelin wherever it answers', () => {
  it('over 20,000 generated expressions and records', () => {
    const next = random(20261122);
    let answered = 0;
    for (let i = 0; i < 20_000; i++) {
      const source = expression(next);
      const ctx = context(next);
      const compiled = compileSimple(source);
      if (!compiled) continue;
      const fast = compiled(ctx);
      if (fast === BAIL) continue;
      answered++;
      const reference = feelin(source, ctx);
      if (reference.error || reference.value !== fast) {
        throw new Error(
          `${source} with ${JSON.stringify(ctx)}: fast path ${JSON.stringify(fast)}, feelin ${JSON.stringify(reference)}`,
        );
      }
    }
    // Most generated cases are in the subset: the fast path is really used.
    expect(answered).toBeGreaterThan(4_000);
  });

  it('compiles the common shapes and leaves the rest to feelin', () => {
    expect(compileSimple('entity.amount > 0')).not.toBeNull();
    expect(compileSimple('entity.status = "Reopened" and (review.result != "Reject" or vars.x = null)')).not.toBeNull();
    expect(compileSimple('count(entity.items) > 1')).toBeNull();
    expect(compileSimple('entity.amount > 1 +')).toBeNull();
    expect(compileSimple('"a\\"b" = entity.x')).toBeNull();
    expect(compileSimple('date(entity.at) > date("2026-01-01")')).toBeNull();
  });

  it('bails out on values whose FEEL semantics it does not implement', () => {
    const compiled = compileSimple('entity.a < entity.b')!;
    expect(compiled({ entity: { a: 'x', b: 1 } })).toBe(BAIL);
    expect(compiled({ entity: { a: [1], b: 1 } })).toBe(BAIL);
    expect(compiled({ entity: { a: 1, b: 2 } })).toBe(true);
  });
});
