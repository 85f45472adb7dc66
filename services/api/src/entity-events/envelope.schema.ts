import { contractJsonSchemas } from '@lifeline/process-domain';

const envelope = contractJsonSchemas().EntityEventEnvelope;
const properties = envelope.properties as Record<string, Record<string, unknown>>;

/** The entity event envelope (docs/architecture.md, "Entity event envelope"), as an OpenAPI schema: entityEventEnvelopeSchema's. */
export const ENVELOPE_SCHEMA = {
  ...envelope,
  properties: {
    ...properties,
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
