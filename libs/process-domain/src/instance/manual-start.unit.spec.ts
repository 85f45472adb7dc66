import type { ProcessDefinition } from '../definition/definition';
import type { Actor, StartInstance } from './commands';
import { SYSTEM } from './commands';
import { checkManualStart, decideManualStart, mayStartByHand, type LaunchableDefinition } from './manual-start';

const definition = (startableBy?: string[]): ProcessDefinition => ({
  key: 'invoice-query',
  name: 'Invoice query',
  relatedEntity: 'Invoice',
  executionOrder: 100,
  enabled: true,
  triggers: [],
  start: 'done',
  activities: { done: { type: 'end' } },
  ...(startableBy ? { startableBy } : {}),
});
const latest = (startableBy?: string[], enabled = true): LaunchableDefinition => ({
  definition: definition(startableBy),
  version: 3,
  enabled,
});
const request = {
  instanceId: 'f0000000-0000-4000-8000-000000000001',
  definitionKey: 'invoice-query',
  entity: { type: 'Invoice', id: 'INV-1' },
  variables: { note: 'asked by phone' },
};
const sam: Actor = { id: 'sam', roles: ['sales'] };
const fred: Actor = { id: 'fred', roles: ['finance'] };
const admin: Actor = { id: 'root', roles: ['admin'] };
const codeOf = (run: () => unknown): string | undefined => {
  try {
    run();
  } catch (error) {
    return (error as { code?: string }).code;
  }
  return undefined;
};

describe('mayStartByHand', () => {
  it('given startableBy [sales], then a sales member and admins may, finance and no roles may not', () => {
    const d = definition(['sales']);
    expect([sam, admin, SYSTEM, fred, { id: 'x', roles: [] }].map((a) => mayStartByHand(d, a))).toEqual([
      true,
      true,
      true,
      false,
      false,
    ]);
  });

  it('given no startableBy, then only admins may (as before startableBy)', () => {
    expect([sam, admin].map((a) => mayStartByHand(definition(), a))).toEqual([false, true]);
  });
});

describe('decideManualStart', () => {
  it('given a caller with a startableBy role, when they start it, then the latest version starts with a cause naming them', () => {
    expect(decideManualStart(latest(['sales', 'finance']), request, sam)).toEqual<StartInstance>({
      type: 'StartInstance',
      instanceId: request.instanceId,
      definitionKey: 'invoice-query',
      definitionVersion: 3,
      entity: { type: 'Invoice', id: 'INV-1' },
      variables: { note: 'asked by phone' },
      cause: { kind: 'api', by: 'sam' },
    });
  });

  it('given a caller without the role, then INSTANCE.START_FORBIDDEN, also when the definition is deactivated', () => {
    expect(codeOf(() => decideManualStart(latest(['finance']), request, sam))).toBe('INSTANCE.START_FORBIDDEN');
    expect(codeOf(() => decideManualStart(latest(['finance'], false), request, sam))).toBe('INSTANCE.START_FORBIDDEN');
    expect(codeOf(() => decideManualStart(latest(), request, sam))).toBe('INSTANCE.START_FORBIDDEN');
  });

  it('given a deactivated definition, then even an admin gets DEFINITION.DISABLED', () => {
    expect(codeOf(() => decideManualStart(latest(['sales'], false), request, sam))).toBe('DEFINITION.DISABLED');
    expect(codeOf(() => decideManualStart(latest(undefined, false), request, admin))).toBe('DEFINITION.DISABLED');
  });

  it('given an unknown definition, then DEFINITION.NOT_FOUND; another record type, INSTANCE.WRONG_ENTITY_TYPE', () => {
    expect(codeOf(() => decideManualStart(undefined, request, admin))).toBe('DEFINITION.NOT_FOUND');
    expect(
      codeOf(() => decideManualStart(latest(['sales']), { ...request, entity: { type: 'Order', id: '1' } }, sam)),
    ).toBe('INSTANCE.WRONG_ENTITY_TYPE');
  });
});

describe('checkManualStart (a start by hand handed over as a command)', () => {
  const command = decideManualStart(latest(['sales']), request, sam);

  it('given an older version than the latest, then INSTANCE.DEFINITION_MISMATCH', () => {
    expect(codeOf(() => checkManualStart(latest(['sales']), { ...command, definitionVersion: 2 }, sam))).toBe(
      'INSTANCE.DEFINITION_MISMATCH',
    );
  });

  it('given a cause naming someone else, then the cause names the actor who starts it', () => {
    const forged: StartInstance = { ...command, cause: { kind: 'api', by: 'fred' } };
    expect(checkManualStart(latest(['sales']), forged, sam).cause).toEqual({ kind: 'api', by: 'sam' });
    expect(codeOf(() => checkManualStart(latest(['sales']), command, fred))).toBe('INSTANCE.START_FORBIDDEN');
  });
});
