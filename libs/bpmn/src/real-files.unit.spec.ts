import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DefinitionInvalid, validateDefinition, type ValidationIssue } from '@lifeline/process-domain';
import { importBpmn } from './import-bpmn';
import type { BpmnElementRef, BpmnImportOptions } from './types';

/**
 * BPMN files drawn by others (test/corpus/bpmn, sources in SOURCES.md): each either imports into a definition that
 * validates, with the activities expectations.json names, or is refused naming exactly the elements it lists.
 */

const CORPUS = join(__dirname, '../../../test/corpus/bpmn');

interface Expectation {
  why: string;
  import: BpmnImportOptions;
  definition?: { key: string; start: string; activities: Record<string, string> };
  /** `element: null`: an issue of the whole document (unreadable XML). */
  refused?: { element: string | null; code?: string; path?: string }[];
}

const expectations = JSON.parse(readFileSync(join(CORPUS, 'expectations.json'), 'utf8')) as Record<string, Expectation>;
const imported = Object.entries(expectations).filter(([, e]) => e.definition);
const refused = Object.entries(expectations).filter(([, e]) => e.refused);

type ElementIssue = ValidationIssue & { element?: BpmnElementRef };

/** What a publish does with the XML: import, then validate, naming each validation issue's element. */
async function importAndValidate(file: string, options: BpmnImportOptions) {
  const result = await importBpmn(readFileSync(join(CORPUS, file), 'utf8'), options);
  const validation = validateDefinition(result.document);
  if (!validation.ok) {
    throw new DefinitionInvalid(
      validation.issues.map((issue) => ({ ...issue, element: issue.path ? result.elementOf(issue.path) : undefined })),
    );
  }
  return validation.definition;
}

async function refusalOf(file: string, options: BpmnImportOptions): Promise<ElementIssue[]> {
  try {
    await importAndValidate(file, options);
  } catch (error) {
    if (error instanceof DefinitionInvalid) return error.issues as ElementIssue[];
    throw error;
  }
  throw new Error(`${file} was imported and validated, but expectations.json says it is refused`);
}

describe('real BPMN files drawn by others', () => {
  it('lists every file of the corpus in expectations.json, and only those', () => {
    const files = readFileSync(join(CORPUS, 'SOURCES.md'), 'utf8').match(/^\| `[a-z0-9-]+\.bpmn` /gm);
    expect(files?.map((row) => row.slice(3, -2)).sort()).toEqual(Object.keys(expectations).sort());
    expect(imported.length + refused.length).toBe(Object.keys(expectations).length);
  });

  it.each(imported)('given %s, when imported, then it validates with the activities it draws', async (file, e) => {
    const definition = await importAndValidate(file, e.import);
    expect(definition.key).toBe(e.definition!.key);
    expect(definition.relatedEntity).toBe(e.import.relatedEntity);
    expect(definition.start).toBe(e.definition!.start);
    const types = Object.fromEntries(
      Object.entries(definition.activities).map(([id, activity]) => [id, (activity as { type: string }).type]),
    );
    expect(types).toEqual(e.definition!.activities);
  });

  it.each(refused)('given %s, when imported, then it is refused naming exactly the elements', async (file, e) => {
    const issues = await refusalOf(file, e.import);
    const named = issues.map((issue) => issue.element?.id ?? null).sort();
    expect(named).toEqual(e.refused!.map((r) => r.element).sort());
    for (const want of e.refused!) {
      const issue = issues.find((i) => (i.element?.id ?? null) === want.element)!;
      if (want.element !== null) {
        expect(issue.element).toEqual(expect.objectContaining({ id: want.element, type: expect.any(String) }));
      }
      if (want.code) expect(issue.code).toBe(want.code);
      if (want.path) expect(issue.path).toBe(want.path);
      expect(issue.message.length).toBeGreaterThan(0);
    }
  });
});
