import { z } from 'zod';
import { definitionDocumentSchema } from '../definition/definition';
import { entityEventEnvelopeSchema } from '../entity/envelope';

type JsonSchema = Record<string, unknown>;

/** Record data in JSON Schema: its limits (depth, sizes, prototype keys) are checked by the walk, not said here. */
const RECORD_DATA: JsonSchema = { type: 'object', additionalProperties: true };

/**
 * The input contracts as JSON Schema (draft 2020-12, which OpenAPI 3.1 uses), from the same zod schemas that
 * validate them: what a client may send. Refinements a JSON Schema cannot say (FEEL syntax, durations, cron,
 * the activity graph, the size limits) are checked by validateEnvelope and validateDefinition.
 */
export function contractJsonSchemas(): { EntityEventEnvelope: JsonSchema; DefinitionDocument: JsonSchema } {
  return {
    EntityEventEnvelope: toJsonSchema(entityEventEnvelopeSchema),
    DefinitionDocument: toJsonSchema(definitionDocumentSchema),
  };
}

function toJsonSchema(schema: z.ZodType): JsonSchema {
  const json = z.toJSONSchema(schema, {
    target: 'draft-2020-12',
    io: 'input',
    unrepresentable: 'any',
    override: ({ zodSchema, jsonSchema }) => {
      // The envelope's data is a custom check (the walk): an object of any JSON.
      if (zodSchema._zod.def.type === 'custom') Object.assign(jsonSchema, RECORD_DATA);
    },
  }) as JsonSchema;
  delete json.$schema;
  return json;
}
