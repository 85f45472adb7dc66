import { contractJsonSchemas } from '@lifeline/process-domain';
import { ENVELOPE_SCHEMA } from '../entity-events/envelope.schema';

/**
 * The request bodies whose schema is the domain's, not the API's: the entity event envelope, the definition document
 * and the record data both carry, as JSON Schema 2020-12 (the envelope and the definition generated from the domain's
 * zod schemas, contractJsonSchemas); the document lists them as they are.
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
  /** The definition format (docs/architecture.md, "Definition format"): the domain's definitionDocumentSchema; what it means (references, FEEL) is checked when it is published. */
  ProcessDefinition: contractJsonSchemas().DefinitionDocument,
};
