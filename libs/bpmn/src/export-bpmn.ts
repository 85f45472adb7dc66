import type { ProcessDefinition } from '@lifeline/process-domain';

/** Writes a definition as BPMN 2.0 XML with diagram interchange (docs/decisions/0010-bpmn.md). */
export async function exportBpmn(definition: ProcessDefinition): Promise<string> {
  void definition;
  throw new Error('exportBpmn: not built yet');
}
