import { PATTERNS } from '../http/openapi';

/** The entity event envelope (docs/architecture.md, "Entity event envelope"), as an OpenAPI schema: the same rules validateEnvelope checks. */
export const ENVELOPE_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['id', 'entityType', 'entityId', 'kind', 'occurredAt', 'data'],
  properties: {
    id: {
      type: 'string',
      minLength: 1,
      maxLength: 200,
      description: 'unique per producer event: the same id twice is recorded once',
    },
    entityType: { type: 'string', pattern: '^[A-Za-z][A-Za-z0-9_]{0,99}$' },
    entityId: {
      type: 'string',
      pattern: '^[^\\u0000-\\u001f\\u007f-\\u009f]{1,200}$',
      description: 'no control characters',
    },
    kind: { type: 'string', enum: ['created', 'updated', 'deleted'] },
    occurredAt: { type: 'string', pattern: PATTERNS.dateTime, description: 'ISO-8601 date-time with a zone' },
    data: { allOf: [{ $ref: '#/components/schemas/RecordData' }], description: 'the record after the change' },
    changed: { type: 'array', items: { type: 'string', minLength: 1 } },
  },
  example: {
    id: 'evt-2026-0001',
    entityType: 'Invoice',
    entityId: 'INV-7',
    kind: 'created',
    occurredAt: '2026-11-21T10:00:00Z',
    data: { number: 'INV-7', amount: 1200, status: 'New', ownerId: 'alice' },
  },
};
