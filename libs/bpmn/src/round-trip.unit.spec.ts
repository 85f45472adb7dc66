import { DefinitionInvalid, validateDefinition } from '@lifeline/process-domain';
import { exportBpmn } from './export-bpmn';
import { importBpmn } from './import-bpmn';
import { allDefinitions } from './testing/all-definitions';

describe('BPMN round trip: importing an export gives back the same definition', () => {
  const definitions = allDefinitions();

  it('covers every example and test definition the repository holds', () => {
    expect(definitions.length).toBeGreaterThanOrEqual(40);
  });

  it.each(definitions.map((d) => [d.name, d] as const))('%s', async (_name, { definition }) => {
    const xml = await exportBpmn(definition);
    const imported = await importBpmn(xml).catch((error: unknown) => {
      const issues = error instanceof DefinitionInvalid ? JSON.stringify(error.issues, null, 2) : String(error);
      throw new Error(`the export does not import: ${issues}`);
    });
    const result = validateDefinition(imported.document);
    if (!result.ok) throw new Error(`the export does not validate: ${JSON.stringify(result.issues, null, 2)}`);
    expect(result.definition).toEqual(definition);
    // And the export of the imported definition is the same XML: nothing drifts on a second trip.
    expect(await exportBpmn(result.definition)).toBe(xml);
  });
});
