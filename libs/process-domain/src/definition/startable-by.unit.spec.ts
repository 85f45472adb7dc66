import { DefinitionInvalid, ValidationIssue } from '../errors';
import { parseDefinition } from './parse-definition';
import { MAX_STARTABLE_ROLES, validateDefinition } from './validate-definition';

/** A small valid document; each test sets its own startableBy. */
const minimal = (startableBy?: unknown): Record<string, unknown> => ({
  key: 'order-check',
  name: 'Order check',
  relatedEntity: 'Order',
  start: 'check',
  activities: {
    check: { type: 'human', title: 'Check the order', assignee: { role: 'sales' }, next: 'done' },
    done: { type: 'end' },
  },
  ...(startableBy !== undefined ? { startableBy } : {}),
});

const issuesOf = (doc: unknown): ValidationIssue[] => {
  const result = validateDefinition(doc);
  if (result.ok) throw new Error('expected the definition to be refused');
  return result.issues;
};

describe('validateDefinition, startableBy (who may start it by hand)', () => {
  it('given no startableBy, when validated, then the definition has none (admins only) and keeps its old shape', () => {
    const result = validateDefinition(minimal());
    expect(result.ok && Object.keys(result.definition)).toEqual([
      'key',
      'name',
      'relatedEntity',
      'executionOrder',
      'enabled',
      'triggers',
      'start',
      'activities',
    ]);
    // null reads as absent, as every optional key of the format does.
    expect(validateDefinition(minimal(null))).toMatchObject({ ok: true, definition: { key: 'order-check' } });
    expect((validateDefinition(minimal(null)) as { definition: object }).definition).not.toHaveProperty('startableBy');
  });

  it('given roles in YAML, when parsed, then they are kept in order', () => {
    const definition = parseDefinition(
      [
        'key: order-check',
        'name: Order check',
        'relatedEntity: Order',
        'startableBy: [sales, finance]',
        'start: done',
        'activities: { done: { type: end } }',
      ].join('\n'),
    );
    expect(definition.startableBy).toEqual(['sales', 'finance']);
  });

  it('given an empty list, then it is refused: leaving the key out is how to say admins only', () => {
    expect(issuesOf(minimal([]))).toEqual([
      {
        path: 'startableBy',
        message: 'must be a non-empty list of role names (leave it out to let only admins start it)',
      },
    ]);
  });

  it('given a role that is not a list, then it is refused at startableBy', () => {
    expect(issuesOf(minimal('sales'))).toEqual([
      {
        path: 'startableBy',
        message: 'must be a non-empty list of role names (leave it out to let only admins start it)',
      },
    ]);
  });

  it('given empty, blank, non-string and ill-formed role names, then each is refused by its index', () => {
    expect(issuesOf(minimal(['sales', '', '  ', 7, 'has space', 'x'.repeat(101)]))).toEqual([
      { path: 'startableBy[1]', message: 'must be a non-empty string' },
      { path: 'startableBy[2]', message: 'must be a non-empty string' },
      { path: 'startableBy[3]', message: 'must be a non-empty string' },
      { path: 'startableBy[4]', message: 'must match a role name ([A-Za-z0-9_.:-], at most 100)' },
      { path: 'startableBy[5]', message: 'must be at most 100 characters' },
    ]);
  });

  it('given a role listed twice, then the second is refused', () => {
    expect(issuesOf(minimal(['sales', 'finance', 'sales']))).toEqual([
      { path: 'startableBy[2]', message: "the role 'sales' is listed twice" },
    ]);
  });

  it(`given more than ${MAX_STARTABLE_ROLES} roles, then the list is refused; ${MAX_STARTABLE_ROLES} are accepted`, () => {
    const roles = (n: number) => Array.from({ length: n }, (_, i) => `role-${i}`);
    expect(issuesOf(minimal(roles(MAX_STARTABLE_ROLES + 1)))).toEqual([
      {
        path: 'startableBy',
        message: `must name at most ${MAX_STARTABLE_ROLES} roles (has ${MAX_STARTABLE_ROLES + 1})`,
      },
    ]);
    const result = validateDefinition(minimal(roles(MAX_STARTABLE_ROLES)));
    expect(result.ok && result.definition.startableBy).toHaveLength(MAX_STARTABLE_ROLES);
  });

  it('given a bad startableBy in a published text, then parseDefinition throws DEFINITION.INVALID with the path', () => {
    let error: unknown;
    try {
      parseDefinition(JSON.stringify(minimal(['sales', 'sales'])), 'application/json');
    } catch (thrown) {
      error = thrown;
    }
    expect(error).toBeInstanceOf(DefinitionInvalid);
    expect((error as DefinitionInvalid).code).toBe('DEFINITION.INVALID');
    expect((error as DefinitionInvalid).issues.map((i) => i.path)).toEqual(['startableBy[1]']);
  });
});
