import { ENVELOPE_SCHEMA } from '../entity-events/envelope.schema';

/**
 * The request bodies whose schema is the domain's, not the API's: the entity event envelope, the definition document
 * and the record data both carry. Kept as JSON Schema 2020-12 in this one place; the document lists them as they are.
 */
export const DOMAIN_SCHEMAS: Record<string, object> = {
  EntityEventEnvelope: ENVELOPE_SCHEMA,
  /** Record data (envelope data, task fields, variables): plain JSON without keys that reach a prototype, at any depth. */
  RecordData: {
    type: 'object',
    not: { anyOf: [{ required: ['__proto__'] }, { required: ['constructor'] }, { required: ['prototype'] }] },
    additionalProperties: { $ref: '#/components/schemas/RecordValue' },
  },
  RecordValue: {
    anyOf: [
      { type: 'null' },
      { type: 'string' },
      { type: 'number' },
      { type: 'boolean' },
      { type: 'array', items: { $ref: '#/components/schemas/RecordValue' } },
      { $ref: '#/components/schemas/RecordData' },
    ],
  },
  /** The definition format's shape (docs/architecture.md, "Definition format"); what it means (references, FEEL) is checked when it is published. */
  ProcessDefinition: {
    type: 'object',
    additionalProperties: false,
    required: ['key', 'name', 'relatedEntity', 'start', 'activities'],
    properties: {
      key: { type: 'string', pattern: '^[a-z0-9][a-z0-9-]{0,62}$' },
      name: { type: 'string', minLength: 1 },
      relatedEntity: { type: 'string', pattern: '^[A-Za-z][A-Za-z0-9_]{0,99}$' },
      executionOrder: { type: 'integer' },
      enabled: { type: 'boolean' },
      triggers: {
        type: 'array',
        items: {
          type: 'object',
          required: ['on'],
          properties: {
            on: { type: 'string', enum: ['created', 'updated', 'deleted', 'schedule'] },
            fields: { type: 'array', items: { type: 'string' } },
            when: { type: 'string', description: 'FEEL' },
            delay: { type: 'string', description: 'ISO-8601 duration' },
            cron: { type: 'string', description: 'on: schedule only; 5 fields, or 6 with seconds first' },
            timeZone: { type: 'string', description: 'on: schedule only; an IANA time zone, default UTC' },
          },
        },
      },
      start: { type: 'string', pattern: '^[A-Za-z_][A-Za-z0-9_]*$' },
      startableBy: {
        type: 'array',
        minItems: 1,
        maxItems: 50,
        uniqueItems: true,
        description: 'roles that may start it by hand for a record (POST /instances); absent: admins only',
        items: { type: 'string', pattern: '^[A-Za-z0-9_.:-]{1,100}$' },
      },
      activities: {
        type: 'object',
        additionalProperties: {
          type: 'object',
          required: ['type'],
          properties: {
            type: {
              type: 'string',
              enum: [
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
              ],
            },
          },
        },
      },
      onRecordDeleted: {
        description:
          'what a running instance does when its record is deleted: continue (default), terminate, or { next }',
        oneOf: [
          { type: 'string', enum: ['continue', 'terminate'] },
          { type: 'object', additionalProperties: false, required: ['next'], properties: { next: { type: 'string' } } },
        ],
      },
      conditionalStarts: {
        type: 'array',
        minItems: 1,
        maxItems: 10,
        description: 'branches a running instance starts when an entity event of its record meets `when` (FEEL)',
        items: {
          type: 'object',
          additionalProperties: false,
          required: ['when', 'next'],
          properties: { when: { type: 'string' }, next: { type: 'string' } },
        },
      },
    },
  },
};
