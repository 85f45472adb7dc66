import { evaluateFeel } from './feel';

const NOW = '2026-11-21T10:00:00.000Z';
const context = {
  entity: {
    amount: 1200,
    status: 'ClearedForPayment',
    owner: { id: 'alice', tags: ['vip', 'eu'] },
    items: [
      { sku: 'A', price: 5, qty: 2 },
      { sku: 'B', price: 12, qty: 1 },
    ],
    nothing: null,
  },
  vars: { escalated: true, count: 3 },
  review: { result: 'Approve', fields: { comment: 'ok' } },
  triage: { answers: ['Late delivery', 'Damaged goods'] },
};

const expressions = [
  'entity.amount > 1000',
  'entity.status = "ClearedForPayment" and review.result = "Approve"',
  'entity.owner.id',
  'entity.owner',
  'entity.items.price',
  'sum(entity.items.price)',
  'entity.items[price > 10].sku',
  'count(entity.items[qty >= 1])',
  'for item in entity.items return item.price * item.qty',
  'some t in entity.owner.tags satisfies t = "vip"',
  'every i in entity.items satisfies i.price > 1',
  'list contains(triage.answers, "Damaged goods")',
  'get value(entity, "amount")',
  'get value(entity.owner, "id")',
  'entity.missing.deeper = null',
  'entity.nothing = null',
  'vars.count + 1',
  'vars',
  'if vars.escalated then "yes" else "no"',
  'review.fields.comment',
  'string length(review.result)',
  'entity.amount > 1000 or unknownThing',
  '{ a: entity.amount, b: vars.count }.a',
  'date(now()) = today()',
  'entity[amount > 0]',
  'entity.items[1].sku',
];

describe('FEEL with the context pruned to what the expression reads', () => {
  it.each(expressions)('%s gives the same as with the whole context', (expression) => {
    const pruned = evaluateFeel(expression, context, NOW);
    // A key with a space turns pruning off: the reference evaluation sees the whole context.
    const whole = evaluateFeel(expression, { ...context, 'not pruned': 1 }, NOW);
    expect(pruned).toEqual(whole);
  });

  it('gives real values, not nulls from a missing context', () => {
    expect(evaluateFeel('sum(entity.items.price)', context, NOW)).toEqual({ ok: true, value: 17 });
    expect(evaluateFeel('entity.items[price > 10].sku', context, NOW)).toEqual({ ok: true, value: ['B'] });
    expect(evaluateFeel('get value(entity.owner, "id")', context, NOW)).toEqual({ ok: true, value: 'alice' });
  });
});
