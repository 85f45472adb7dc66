import type { ProcessDefinition, Trigger } from '../definition/definition';
import type { EntityEventEnvelope } from '../entity/envelope';
import { ActiveDefinition, matchTriggers } from './match-triggers';

const NOW = '2026-11-21T10:00:00Z';

const definitionOf = (key: string, triggers: Trigger[], relatedEntity = 'Invoice'): ProcessDefinition => ({
  key,
  name: key,
  relatedEntity,
  executionOrder: 100,
  enabled: true,
  triggers,
  start: 'done',
  activities: { done: { type: 'end' } },
});

const active = (
  key: string,
  triggers: Trigger[],
  options: Partial<Omit<ActiveDefinition, 'definition'>> & { relatedEntity?: string } = {},
): ActiveDefinition => ({
  definition: definitionOf(key, triggers, options.relatedEntity),
  version: options.version ?? 1,
  enabled: options.enabled ?? true,
  executionOrder: options.executionOrder ?? 100,
});

const invoiceEvent = (overrides: Partial<EntityEventEnvelope> = {}): EntityEventEnvelope => ({
  id: 'evt-1',
  entityType: 'Invoice',
  entityId: 'INV-7',
  kind: 'updated',
  occurredAt: NOW,
  data: { number: 'INV-7', amount: 1200, status: 'Reopened' },
  changed: ['status'],
  ...overrides,
});

describe('matchTriggers', () => {
  it('given a created trigger with a true condition, when an invoice is created, then it matches', () => {
    const result = matchTriggers(
      [active('invoice-approval', [{ on: 'created', when: 'entity.amount > 0' }], { version: 3, executionOrder: 10 })],
      invoiceEvent({ kind: 'created', changed: undefined }),
      NOW,
    );
    expect(result).toEqual({
      matches: [{ definitionKey: 'invoice-approval', definitionVersion: 3, triggerIndex: 0, executionOrder: 10 }],
      errors: [],
    });
  });

  it('given a condition on record, then it reads the envelope identity, not the data (which has its own id)', () => {
    const event = invoiceEvent({ entityId: 'INV-9', data: { id: 'app-own-id', amount: 1 } });
    const result = matchTriggers(
      [
        active('by-record', [{ on: 'updated', when: 'record.type = "Invoice" and record.id = "INV-9"' }]),
        active('by-data', [{ on: 'updated', when: 'entity.id = "app-own-id"' }]),
      ],
      event,
      NOW,
    );
    expect(result.errors).toEqual([]);
    expect(result.matches.map((m) => m.definitionKey)).toEqual(['by-data', 'by-record']);
  });

  it('given a trigger on another kind, when the event arrives, then it does not match', () => {
    const result = matchTriggers([active('a', [{ on: 'deleted' }])], invoiceEvent(), NOW);
    expect(result.matches).toEqual([]);
  });

  it('given a false condition, then no match', () => {
    const result = matchTriggers([active('a', [{ on: 'updated', when: 'entity.amount > 5000' }])], invoiceEvent(), NOW);
    expect(result.matches).toEqual([]);
  });

  it('given a disabled definition or another entity type, then it never matches', () => {
    const result = matchTriggers(
      [
        active('off', [{ on: 'updated' }], { enabled: false }),
        active('order', [{ on: 'updated' }], { relatedEntity: 'Order' }),
      ],
      invoiceEvent(),
      NOW,
    );
    expect(result.matches).toEqual([]);
  });

  it('given a field filter, then it matches only when one of its fields changed', () => {
    const definitions = [active('a', [{ on: 'updated', fields: ['status', 'amount'] }])];
    expect(matchTriggers(definitions, invoiceEvent({ changed: ['amount'] }), NOW).matches).toHaveLength(1);
    expect(matchTriggers(definitions, invoiceEvent({ changed: ['ownerId'] }), NOW).matches).toEqual([]);
    expect(matchTriggers(definitions, invoiceEvent({ changed: undefined }), NOW).matches).toEqual([]);
  });

  it('given several matching triggers in one definition, then only the first one by index matches, with its delay', () => {
    const result = matchTriggers(
      [
        active('a', [
          { on: 'created' },
          { on: 'updated', when: 'entity.status = "Closed"' },
          { on: 'updated', fields: ['status'], delay: 'PT10M' },
          { on: 'updated' },
        ]),
      ],
      invoiceEvent(),
      NOW,
    );
    expect(result.matches).toEqual([
      { definitionKey: 'a', definitionVersion: 1, triggerIndex: 2, executionOrder: 100, delay: 'PT10M' },
    ]);
  });

  it('given several definitions, then matches are sorted by execution order, then key', () => {
    const result = matchTriggers(
      [
        active('zeta', [{ on: 'updated' }], { executionOrder: 5 }),
        active('beta', [{ on: 'updated' }], { executionOrder: 20 }),
        active('alpha', [{ on: 'updated' }], { executionOrder: 20 }),
        active('omega', [{ on: 'updated' }], { executionOrder: 1 }),
      ],
      invoiceEvent(),
      NOW,
    );
    expect(result.matches.map((m) => m.definitionKey)).toEqual(['omega', 'zeta', 'alpha', 'beta']);
  });

  it('given a condition that cannot be evaluated, then an error is reported and the next trigger may still match', () => {
    const result = matchTriggers(
      [
        active('a', [
          { on: 'updated', when: 'entity.amount >' },
          { on: 'updated', when: 'entity.amount > 1' },
        ]),
      ],
      invoiceEvent(),
      NOW,
    );
    expect(result.errors).toEqual([
      { definitionKey: 'a', triggerIndex: 0, code: 'FEEL.SYNTAX', message: expect.any(String) },
    ]);
    expect(result.matches.map((m) => m.triggerIndex)).toEqual([1]);
  });

  it('given a condition over now(), then the injected instant is used', () => {
    const definitions = [active('a', [{ on: 'updated', when: 'today() = date("2026-11-21")' }])];
    expect(matchTriggers(definitions, invoiceEvent(), NOW).matches).toHaveLength(1);
    expect(matchTriggers(definitions, invoiceEvent(), '2026-11-22T10:00:00Z').matches).toEqual([]);
  });

  it('given the grid executionOrder differs from the document, then the grid value is used', () => {
    const definition = active('a', [{ on: 'updated' }], { executionOrder: 7 });
    expect(definition.definition.executionOrder).toBe(100);
    expect(matchTriggers([definition], invoiceEvent(), NOW).matches[0].executionOrder).toBe(7);
  });
});
