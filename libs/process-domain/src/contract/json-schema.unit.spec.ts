import { contractJsonSchemas } from './json-schema';

describe('contractJsonSchemas', () => {
  const { EntityEventEnvelope: envelope, DefinitionDocument: definition } = contractJsonSchemas();

  it('given the envelope schema, then it is the JSON Schema of the contract: its keys, which are required, no others', () => {
    expect(envelope).toMatchObject({
      type: 'object',
      required: ['id', 'entityType', 'entityId', 'kind', 'occurredAt', 'data'],
      additionalProperties: false,
      properties: {
        id: { type: 'string', minLength: 1, maxLength: 200 },
        entityType: { type: 'string', pattern: '^[A-Za-z][A-Za-z0-9_]{0,99}$' },
        kind: { type: 'string', enum: ['created', 'updated', 'deleted'] },
        // The contract takes 10:00Z too, which the RFC 3339 date-time format refuses: no format.
        occurredAt: { type: 'string' },
        data: { type: 'object', additionalProperties: true },
        changed: { type: 'array', items: { type: 'string', minLength: 1 } },
      },
    });
    expect(envelope).not.toHaveProperty('$schema');
    expect(envelope).not.toHaveProperty('properties.occurredAt.format');
  });

  it('given the definition schema, then each activity type is one branch of a union keyed by its type', () => {
    expect(definition).toMatchObject({
      type: 'object',
      required: ['key', 'name', 'relatedEntity', 'start', 'activities'],
      additionalProperties: false,
    });
    const activities = (definition.properties as Record<string, { additionalProperties: { oneOf: unknown[] } }>)
      .activities;
    const types = activities.additionalProperties.oneOf.map(
      (option) => (option as { properties: { type: { const: string } } }).properties.type.const,
    );
    expect(types).toEqual([
      'human',
      'automatic',
      'wait',
      'decision',
      'service',
      'end',
      'parallel',
      'inclusive',
      'join',
      'subprocess',
    ]);
  });
});
