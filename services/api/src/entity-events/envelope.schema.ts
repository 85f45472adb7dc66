import { contractJsonSchemas } from '@lifeline/process-domain';
import { PATTERNS } from '../http/openapi';

const envelope = contractJsonSchemas().EntityEventEnvelope;
const properties = envelope.properties as Record<string, Record<string, unknown>>;

/** The entity event envelope (docs/architecture.md, "Entity event envelope"), as an OpenAPI schema: entityEventEnvelopeSchema's. */
export const ENVELOPE_SCHEMA = {
  ...envelope,
  properties: {
    ...properties,
    // A real calendar day, as a pattern (the schema's own check is code): what fuzzers and clients can test.
    occurredAt: { ...properties.occurredAt, pattern: PATTERNS.dateTime },
    // The document's own description of record data (any depth, no prototype keys).
    data: { allOf: [{ $ref: '#/components/schemas/RecordData' }], description: properties.data!.description as string },
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
