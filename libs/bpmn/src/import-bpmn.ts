import { DEFINITION_LIMITS, DEFINITION_RULES, DefinitionInvalid } from '@lifeline/process-domain';
import type { ParseResult } from 'bpmn-moddle';
import { ImportIssues } from './import/issues';
import { list, refOf, str, type El } from './import/model';
import { ProcessReader, type ElementIndex } from './import/process';
import { createModdle } from './moddle';
import type { BpmnElementRef, BpmnImport, BpmnImportOptions } from './types';

/** Flow elements a file may have: a definition has at most 500 activities, plus the flows and events between them. */
export const MAX_BPMN_FLOW_ELEMENTS = DEFINITION_RULES.maxActivities * 8;

/**
 * Reads BPMN 2.0 XML into a definition document (docs/decisions/0010-bpmn.md). The document is not validated yet
 * (`validateDefinition` does that); what Lifeline cannot run is refused first: throws DefinitionInvalid with one
 * issue per element (`code` BPMN.*, `element`).
 */
export async function importBpmn(xml: string, options: BpmnImportOptions = {}): Promise<BpmnImport> {
  const issues = new ImportIssues();
  const fail = (): never => {
    throw new DefinitionInvalid(issues.all());
  };
  checkText(xml, issues);
  if (issues.any) fail();
  let parsed: ParseResult;
  try {
    parsed = await createModdle().fromXML(xml);
  } catch (error) {
    issues.file(`the BPMN XML cannot be read: ${firstLine(error)}`, 'BPMN.INVALID_XML');
    return fail();
  }
  for (const warning of parsed.warnings) {
    const element = warning.element?.$type?.startsWith('bpmn:') && warning.element.id ? warning.element : undefined;
    const message = `the BPMN XML is not valid: ${firstLine(warning)}`;
    if (element) issues.refuse(element, message, 'BPMN.INVALID_XML');
    else issues.file(message, 'BPMN.INVALID_XML');
  }
  if (issues.any) fail();
  const definitions = parsed.rootElement;
  const process = chooseProcess(definitions, options, issues);
  if (!process) return fail();
  if (list(process, 'flowElements').length > MAX_BPMN_FLOW_ELEMENTS) {
    issues.refuse(
      process,
      `the process has more than ${MAX_BPMN_FLOW_ELEMENTS} elements (a definition has at most ${DEFINITION_RULES.maxActivities} activities)`,
      'BPMN.TOO_LARGE',
    );
    return fail();
  }
  const reader = new ProcessReader(process, embeddedForms(process), options, issues);
  const document = reader.read();
  if (issues.any) fail();
  return { document, elementOf: elementOfIn(reader.index) };
}

/** Size, emptiness and DOCTYPE, before any parsing: entities and external DTDs are never read. */
function checkText(xml: string, issues: ImportIssues): void {
  if (typeof xml !== 'string') {
    issues.file('the BPMN document must be text', 'BPMN.INVALID_XML');
    return;
  }
  const bytes = xml.length > DEFINITION_LIMITS.maxBytes ? xml.length : new TextEncoder().encode(xml).length;
  if (bytes > DEFINITION_LIMITS.maxBytes) {
    issues.file(`the document is larger than ${DEFINITION_LIMITS.maxBytes} bytes (${bytes} bytes)`, 'BPMN.TOO_LARGE');
    return;
  }
  if (xml.trim() === '') {
    issues.file('the document is empty', 'BPMN.INVALID_XML');
    return;
  }
  if (/<!DOCTYPE|<!ENTITY/i.test(xml)) {
    issues.file('DOCTYPE and entity declarations are not allowed in a BPMN file: remove them', 'BPMN.INVALID_XML');
  }
}

/** The executable process (or the one `processId` names); refuses none and several. */
function chooseProcess(definitions: El, options: BpmnImportOptions, issues: ImportIssues): El | undefined {
  if (definitions?.$type !== 'bpmn:Definitions') {
    issues.file('the document is not BPMN 2.0: its root must be bpmn:definitions', 'BPMN.NO_PROCESS');
    return undefined;
  }
  const processes = list(definitions, 'rootElements').filter((element) => element.$type === 'bpmn:Process');
  if (options.processId !== undefined) {
    const named = processes.find((process) => process.id === options.processId);
    if (!named) issues.file(`the file has no process ${options.processId}`, 'BPMN.NO_PROCESS');
    return named;
  }
  const executable = processes.filter((process) => process.isExecutable === true);
  const candidates = executable.length > 0 ? executable : processes;
  if (candidates.length === 0) {
    issues.file('the file has no process: draw one in a pool or on the canvas', 'BPMN.NO_PROCESS');
    return undefined;
  }
  if (candidates.length > 1) {
    for (const process of candidates) {
      issues.refuse(
        process,
        'the file has several executable processes: choose one with the processId option (?processId=, --process-id)',
        'BPMN.SEVERAL_PROCESSES',
      );
    }
    return undefined;
  }
  return candidates[0];
}

/** The Camunda Forms embedded in the process (`zeebe:userTaskForm`), by id. */
function embeddedForms(process: El): Map<string, El> {
  const forms = new Map<string, El>();
  for (const value of list(process.extensionElements as El | undefined, 'values')) {
    if (value.$type !== 'zeebe:UserTaskForm') continue;
    const id = str(value, 'id');
    if (id !== undefined) forms.set(id, value);
  }
  return forms;
}

/** A definition path → the element it came from: the longest path the import recorded that the path starts with. */
function elementOfIn(index: ElementIndex): (path: string) => BpmnElementRef | undefined {
  return (path: string) => {
    let at = path;
    for (;;) {
      const element = index.get(at);
      if (element) return refOf(element);
      if (at === '') return undefined;
      at = parentPath(at);
    }
  };
}

/** `activities.a.boundary[0]` → `activities.a.boundary` → `activities.a` → `activities` → ``. */
function parentPath(path: string): string {
  if (path.endsWith(']')) {
    const open = path.lastIndexOf('[');
    if (open >= 0) return path.slice(0, open);
  }
  const dot = path.lastIndexOf('.');
  return dot < 0 ? '' : path.slice(0, dot);
}

function firstLine(error: unknown): string {
  const message =
    error instanceof Error
      ? error.message
      : typeof error === 'object' && error !== null && 'message' in error
        ? String((error as { message: unknown }).message)
        : String(error);
  return message.split('\n')[0] ?? message;
}
