/** An OpenAPI 3.1 document as far as these checks read it. */
interface Schema {
  $ref?: string;
  type?: string | string[];
  properties?: Record<string, Schema>;
  additionalProperties?: boolean | Schema;
  items?: Schema;
  anyOf?: Schema[];
  allOf?: Schema[];
}
export interface OpenApiDocument {
  paths: Record<
    string,
    Record<string, { responses: Record<string, { content?: Record<string, { schema: Schema }> }> }>
  >;
  components: { schemas: Record<string, Schema> };
}

/**
 * The fields of an answer its documented schema does not name, by path (`asOf`, `items.0.extra`): what a client
 * generated from the document would not know about. Follows $ref, allOf, anyOf, object properties and array items.
 */
export function undocumentedFields(document: OpenApiDocument, path: string, method: string, value: unknown): string[] {
  const schema = document.paths[path][method].responses['200'].content!['application/json'].schema;
  return walk(document, schema, value, '');
}

function walk(document: OpenApiDocument, schema: Schema, value: unknown, at: string): string[] {
  if (schema.$ref) return walk(document, document.components.schemas[schema.$ref.split('/').pop()!], value, at);
  if (schema.allOf) {
    const named = new Set(schema.allOf.flatMap((s) => Object.keys(resolve(document, s).properties ?? {})));
    const own = Object.keys(value as object)
      .filter((k) => !named.has(k))
      .map((k) => `${at}${k}`);
    return [
      ...own,
      ...schema.allOf.flatMap((s) =>
        walk(document, { ...resolve(document, s), additionalProperties: true }, value, at),
      ),
    ];
  }
  if (schema.anyOf) {
    const fits = schema.anyOf.map((s) => walk(document, s, value, at));
    return fits.find((f) => f.length === 0) ?? fits[0];
  }
  if (Array.isArray(value))
    return schema.items ? value.flatMap((v, i) => walk(document, schema.items!, v, `${at}${i}.`)) : [];
  if (value === null || typeof value !== 'object' || !schema.properties) return [];
  return Object.entries(value).flatMap(([key, field]) => {
    const property = schema.properties![key];
    if (property) return walk(document, property, field, `${at}${key}.`);
    return schema.additionalProperties === false || schema.additionalProperties === undefined ? [`${at}${key}`] : [];
  });
}

const resolve = (document: OpenApiDocument, schema: Schema): Schema =>
  schema.$ref ? resolve(document, document.components.schemas[schema.$ref.split('/').pop()!]) : schema;
