import type { ProcessDefinition, Trigger } from '../definition/definition';
import type { EntityEventEnvelope } from '../entity/envelope';
import { matchTriggers, type ActiveDefinition } from './match-triggers';
import { buildTriggerIndex, candidateDefinitions, equalityConjunct } from './trigger-index';

const NOW = '2026-11-21T10:00:00Z';

const active = (key: string, triggers: Trigger[], enabled = true): ActiveDefinition => ({
  definition: {
    key,
    name: key,
    relatedEntity: 'Invoice',
    executionOrder: 100,
    enabled,
    triggers,
    start: 'done',
    activities: { done: { type: 'end' } },
  } satisfies ProcessDefinition,
  version: 1,
  enabled,
  executionOrder: 100,
});

const envelope = (kind: EntityEventEnvelope['kind'], data: Record<string, unknown>): EntityEventEnvelope => ({
  id: 'evt-1',
  entityType: 'Invoice',
  entityId: 'INV-1',
  kind,
  occurredAt: NOW,
  data,
  changed: ['status'],
});

describe('equalityConjunct', () => {
  it.each([
    ['entity.status = "Open"', { field: 'status', key: 's:Open' }],
    ['"Open" = entity.status', { field: 'status', key: 's:Open' }],
    ['entity.amount = 12.50', { field: 'amount', key: 'n:12.5' }],
    ['entity.vip = true', { field: 'vip', key: 'b:true' }],
    ['entity.amount > 0 and entity.region = "EU"', { field: 'region', key: 's:EU' }],
    ['(entity.region = "EU") and (entity.amount > 0)', { field: 'region', key: 's:EU' }],
  ])('given %s, then it narrows by %j', (expression, expected) => {
    expect(equalityConjunct(expression)).toEqual(expected);
  });

  it.each([
    'entity.status != "Open"',
    'entity.status = "Open" or entity.vip = true',
    'entity.address.city = "Paris"',
    'vars.x = 1',
    'entity.status = "a\\"b"',
    'not(entity.status = "Open")',
    'entity.status =',
  ])('given %s, then it does not narrow (every event of its kind is a candidate)', (expression) => {
    expect(equalityConjunct(expression)).toBeUndefined();
  });
});

describe('candidateDefinitions then matchTriggers decide exactly as matchTriggers over every definition', () => {
  it('given 1,000 generated definitions and 400 events, then the matches and errors are the same', () => {
    let seed = 42;
    const random = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const statuses = ['Open', 'Closed', 'Reopened', 'ClearedForPayment'];
    const conditions = () =>
      [
        `entity.status = "${statuses[random(4)]}"`,
        `entity.amount > ${random(2000)}`,
        `entity.status = "${statuses[random(4)]}" and entity.amount > ${random(2000)}`,
        `entity.region = "R${random(5)}"`,
        `entity.vip = ${random(2) === 0}`,
        `entity.status = "${statuses[random(4)]}" or entity.vip = true`,
        `entity.amount = ${random(3)}`,
        'entity.amount >',
        undefined,
      ][random(9)];
    const kinds = ['created', 'updated', 'deleted'] as const;
    for (let round = 0; round < 20; round++) {
      const definitions = Array.from({ length: 50 }, (_, i) =>
        active(
          `d${round}-${i}`,
          Array.from({ length: 1 + random(3) }, () => {
            const when = conditions();
            return { on: kinds[random(3)]!, ...(when !== undefined ? { when } : {}) } as Trigger;
          }),
          random(10) !== 0,
        ),
      );
      const index = buildTriggerIndex(definitions);
      for (let e = 0; e < 20; e++) {
        const data: Record<string, unknown> = {
          status: random(5) === 0 ? 7 : statuses[random(4)],
          amount: random(4) === 0 ? String(random(3)) : random(2500),
          region: `R${random(6)}`,
          ...(random(3) === 0 ? { vip: random(2) === 0 } : {}),
        };
        const event = envelope(kinds[random(3)]!, data);
        const all = matchTriggers(definitions, event, NOW);
        const narrowed = matchTriggers(candidateDefinitions(index, event), event, NOW);
        expect(narrowed.matches).toEqual(all.matches);
        // Triggers that fail to evaluate are never narrowed (no literal conjunct), so errors agree too.
        expect(narrowed.errors).toEqual(all.errors);
      }
    }
  });
});
