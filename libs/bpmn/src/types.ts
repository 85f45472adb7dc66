/** The BPMN element a definition's part came from, so an error can be shown on it. */
export interface BpmnElementRef {
  id: string;
  /** The element's `name`, when it has one. */
  name?: string;
  /** The moddle type, e.g. `bpmn:UserTask`. */
  type: string;
}

/** What the import needs besides the XML: values BPMN has no place for (a query parameter or a CLI flag). */
export interface BpmnImportOptions {
  /** The definition key when the file has no `lifeline:definition key` (else derived from the process id). */
  key?: string;
  /** The record type when the file has no `lifeline:definition relatedEntity`. */
  relatedEntity?: string;
  /** Which executable process of a collaboration to import (its id), when there is more than one. */
  processId?: string;
  /**
   * The role a user task without an assignee or candidate group goes to (Camunda's Tasklist shows such a task to
   * everyone; Lifeline names who may take it). Without it, such a task is refused with BPMN.NO_ASSIGNEE.
   */
  unassignedRole?: string;
}

/**
 * A BPMN document read into a definition document (not yet validated: `validateDefinition` does that), with where
 * each activity came from. `elementOf` maps a definition path (`activities.review.assignee`, `triggers[0]`,
 * `start`) to the element it concerns, so validation issues can name the element.
 */
export interface BpmnImport {
  document: Record<string, unknown>;
  elementOf(path: string): BpmnElementRef | undefined;
}
