import { checkFeel, evaluateFeel, FEEL_BUDGET } from './feel';

const NOW = '2026-11-21T10:00:00.000Z';
const overBudget = { ok: false, code: 'FEEL.BUDGET_EXCEEDED' };

describe('FEEL budget', () => {
  describe('refused before evaluation (publish and run time)', () => {
    it.each([
      ['count(for i in 1..100000000 return i)', 'range 1..100000000'],
      ['some i in [1..100000000] satisfies i < 0', 'range 1..100000000'],
      ['for i in 1..1.5 return i', 'whole-number'],
      ['{x: for i in 1..10 return i, r: for a in x, b in x return 1}.r', "'x' is bound inside"],
      ['(function(l) for a in l, b in l return 1)([1,2])', "'l' is bound inside"],
      ['{x: [1,2,3], y: x[item > 1]}.y', "'x' is bound inside"],
      [`for a in [${Array.from({ length: 101 }, (_, i) => i).join(',')}] return a`, 'literal list of 101'],
      ['for a in [1,2,3,4,5,6,7,8,9,10], b in [1,2,3,4,5,6,7,8,9,10], c in [1,2] return 1', 'multiply'],
    ])('given %s, then checkFeel names the problem and evaluation is refused', (expression, problem) => {
      expect(checkFeel(expression)).toContain(problem);
      expect(evaluateFeel(expression, {}, NOW)).toMatchObject(overBudget);
    });

    it.each([
      'count(for i in 1..10 return i)',
      'some l in entity.lines satisfies l.qty > 4',
      'count(entity.lines[qty > 1])',
      'for a in [1,2,3], b in entity.lines return a',
      '{total: sum(entity.lines.qty)}.total',
    ])('given the ordinary %s, then it passes the check', (expression) => {
      expect(checkFeel(expression)).toBeUndefined();
    });
  });

  describe('metered while evaluating', () => {
    const lines = (n: number) => ({ entity: { n, lines: Array.from({ length: n }, (_, i) => ({ qty: i })) } });

    it('given a range whose bounds come from the record, when it is larger than the budget, then the evaluation stops', () => {
      const started = performance.now();
      expect(evaluateFeel('count(for i in 1..entity.n return i)', { entity: { n: 100_000_000 } }, NOW)).toMatchObject(
        overBudget,
      );
      expect(performance.now() - started).toBeLessThan(1000);
    });

    it('given a range from the record that fits, then it evaluates', () => {
      expect(evaluateFeel('count(for i in 1..entity.n return i)', { entity: { n: 1000 } }, NOW)).toEqual({
        ok: true,
        value: 1000,
      });
    });

    it('given a computed range with fractional bounds, then it is refused instead of never ending', () => {
      expect(evaluateFeel('for i in 1..entity.n return i', { entity: { n: 1.5 } }, NOW)).toMatchObject(overBudget);
    });

    it('given nested iteration over a record list, then the product of the sizes is metered', () => {
      const context = lines(1000);
      expect(evaluateFeel('count(for a in entity.lines return 1)', context, NOW)).toEqual({ ok: true, value: 1000 });
      const started = performance.now();
      expect(
        evaluateFeel('count(for a in entity.lines, b in entity.lines, c in entity.lines return 1)', context, NOW),
      ).toMatchObject(overBudget);
      expect(performance.now() - started).toBeLessThan(1000);
    });

    it('given a builtin over a record list called in a loop, then each call pays for the list it reads', () => {
      const context = lines(5000);
      expect(evaluateFeel('sum(entity.lines.qty)', context, NOW)).toMatchObject({ ok: true });
      expect(evaluateFeel('count(for i in 1..100 return sum(entity.lines.qty))', context, NOW)).toMatchObject(
        overBudget,
      );
    });

    it('given a recursive function that branches, then each call costs a step and it stops', () => {
      const started = performance.now();
      const outcome = evaluateFeel('{f: function(n) if n = 0 then 0 else f(n - 1) + f(n - 1)}.f(40)', {}, NOW);
      expect(outcome).toMatchObject(overBudget);
      expect(performance.now() - started).toBeLessThan(2000);
    });

    it('given a list doubled by concatenate through context entries, then the size is paid and it stops', () => {
      const entries = Array.from({ length: 40 }, (_, i) => `l${i + 1}: concatenate(l${i}, l${i})`).join(', ');
      expect(evaluateFeel(`count({l0: [1], ${entries}}.l40)`, {}, NOW)).toMatchObject(overBudget);
    });

    it('given the budget is met exactly once per evaluation, then the next evaluation starts afresh', () => {
      const expression = `count(for i in 1..${FEEL_BUDGET.maxSteps / 4} return i)`;
      expect(evaluateFeel(expression, {}, NOW)).toEqual({ ok: true, value: FEEL_BUDGET.maxSteps / 4 });
      expect(evaluateFeel(expression, {}, NOW)).toEqual({ ok: true, value: FEEL_BUDGET.maxSteps / 4 });
    });

    it('given a regex search, then it pays for program size × input length, so a large one stops', () => {
      // feel-regex.unit.spec.ts covers the linear-time engine; here only that the search is metered.
      const text = 'a'.repeat(60_000);
      expect(evaluateFeel('matches(entity.text, "^(a|aa)*$")', { entity: { text } }, NOW)).toEqual({
        ok: true,
        value: true,
      });
      expect(
        evaluateFeel(
          'matches(entity.text, "^(a|aa)*$") and matches(entity.text, "^(a|aa)*$")',
          { entity: { text } },
          NOW,
        ),
      ).toMatchObject(overBudget);
    });

    it('given a result larger than the size budget, then it is refused as too large', () => {
      const outcome = evaluateFeel('for i in 1..15000 return entity.text', { entity: { text: 'x'.repeat(100) } }, NOW);
      expect(outcome).toMatchObject({ ok: false, code: 'FEEL.TOO_LARGE' });
    });
  });
});
