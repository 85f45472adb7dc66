import type { BpmnImport, BpmnImportOptions } from './types';

/** Reads BPMN 2.0 XML into a definition document (docs/decisions/0010-bpmn.md). Throws DefinitionInvalid. */
export async function importBpmn(xml: string, options: BpmnImportOptions = {}): Promise<BpmnImport> {
  void xml;
  void options;
  throw new Error('importBpmn: not built yet');
}
