import type { BpmnImportOptions } from '@lifeline/bpmn';
import {
  DefinitionInvalid,
  parseDefinition,
  validateDefinition,
  type ProcessDefinition,
} from '@lifeline/process-domain';

/** The media types a BPMN file is sent as (docs/decisions/0010-bpmn.md). */
export const BPMN_MEDIA_TYPES: readonly string[] = ['application/bpmn+xml', 'application/xml', 'text/xml'];

/** Whether a published text is BPMN XML: by its media type, or (sent as plain text) by its first character. */
export function isBpmnText(text: string, contentType: string | undefined): boolean {
  const type = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  if (BPMN_MEDIA_TYPES.includes(type)) return true;
  if (/json/.test(type)) return false;
  return /^\uFEFF?\s*</.test(text);
}

/**
 * Reads a published text into a validated definition: YAML or JSON, or BPMN XML through the import. A BPMN file's
 * issues, its own and validation's, each name the element they concern. Throws DefinitionInvalid.
 */
export async function readDefinition(
  text: string,
  contentType: string | undefined,
  options: BpmnImportOptions = {},
): Promise<ProcessDefinition> {
  if (typeof text !== 'string' || !isBpmnText(text, contentType)) return parseDefinition(text, contentType);
  // Loaded on the first BPMN publish: a server that never sees BPMN does not carry the moddle libraries.
  const { importBpmn } = await import('@lifeline/bpmn');
  const { document, elementOf } = await importBpmn(text.replace(/^\uFEFF/, ''), options);
  const result = validateDefinition(document);
  if (result.ok) return result.definition;
  throw new DefinitionInvalid(
    result.issues.map((issue) => {
      const element = elementOf(issue.path);
      return element ? { ...issue, element } : issue;
    }),
  );
}
