import { isMap, isScalar, isSeq, LineCounter, parseDocument } from 'yaml';
import { DefinitionInvalid, ValidationIssue } from '../errors';
import type { ProcessDefinition } from './definition';
import { validateDefinition } from './validate-definition';

export const DEFINITION_LIMITS = {
  /** UTF-8 size of the document text. */
  maxBytes: 1024 * 1024,
  /** Alias expansions allowed while building the document, against "billion laughs" documents. */
  maxAliasCount: 100,
};

/**
 * Reads a definition document, YAML or JSON (both through `yaml`, so JSON duplicate keys are caught too).
 * Throws DefinitionInvalid for an oversized text, a syntax error or a duplicate key, each with a path.
 */
export function parseDefinitionText(text: string, contentType?: string): unknown {
  if (typeof text !== 'string') throw new DefinitionInvalid([{ path: '', message: 'the document must be text' }]);
  const bytes = text.length > DEFINITION_LIMITS.maxBytes ? text.length : new TextEncoder().encode(text).length;
  if (bytes > DEFINITION_LIMITS.maxBytes) {
    throw new DefinitionInvalid([
      { path: '', message: `the document is larger than ${DEFINITION_LIMITS.maxBytes} bytes (${bytes} bytes)` },
    ]);
  }
  if (text.trim() === '') throw new DefinitionInvalid([{ path: '', message: 'the document is empty' }]);
  const isJson = contentType !== undefined && /json/i.test(contentType);
  const lineCounter = new LineCounter();
  // Duplicates are found by our own walk below, so each one is reported with its path.
  let document: ReturnType<typeof parseDocument>;
  try {
    document = parseDocument(text, {
      uniqueKeys: false,
      lineCounter,
      prettyErrors: false,
      schema: isJson ? 'json' : 'core',
    });
  } catch (error) {
    // A pathological document (e.g. nesting deep enough to exhaust the stack) is refused, never thrown raw.
    throw new DefinitionInvalid([{ path: '', message: `the document cannot be read: ${messageOf(error)}` }]);
  }
  const at = (offset: number) => {
    const { line, col } = lineCounter.linePos(offset);
    return `${line}:${col}`;
  };
  if (document.errors.length > 0) {
    throw new DefinitionInvalid(
      document.errors.map((error) => ({
        path: '',
        message: `${isJson ? 'JSON' : 'YAML'} syntax error at ${at(error.pos[0])}: ${error.message.split('\n')[0]}`,
      })),
    );
  }
  const duplicates: ValidationIssue[] = [];
  try {
    findDuplicateKeys(document.contents, '', duplicates, at);
  } catch (error) {
    throw new DefinitionInvalid([{ path: '', message: `the document cannot be read: ${messageOf(error)}` }]);
  }
  if (duplicates.length > 0) throw new DefinitionInvalid(duplicates);
  try {
    return document.toJS({ maxAliasCount: DEFINITION_LIMITS.maxAliasCount });
  } catch (error) {
    throw new DefinitionInvalid([{ path: '', message: `the document cannot be read: ${messageOf(error)}` }]);
  }
}

/** Parses and validates; the result is normalised (every default filled in). Throws DefinitionInvalid. */
export function parseDefinition(text: string, contentType?: string): ProcessDefinition {
  const result = validateDefinition(parseDefinitionText(text, contentType));
  if (!result.ok) throw new DefinitionInvalid(result.issues);
  return result.definition;
}

function findDuplicateKeys(
  node: unknown,
  path: string,
  issues: ValidationIssue[],
  at: (offset: number) => string,
): void {
  if (isMap(node)) {
    const seen = new Set<string>();
    for (const pair of node.items) {
      const key = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
      const keyPath = path === '' ? key : `${path}.${key}`;
      if (seen.has(key)) {
        const range = isScalar(pair.key) ? pair.key.range : undefined;
        const where = range ? ` at ${at(range[0])}` : '';
        issues.push({ path: keyPath, message: `duplicate key '${key}'${where}` });
      }
      seen.add(key);
      findDuplicateKeys(pair.value, keyPath, issues, at);
    }
  } else if (isSeq(node)) {
    node.items.forEach((item, index) => findDuplicateKeys(item, `${path}[${index}]`, issues, at));
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
