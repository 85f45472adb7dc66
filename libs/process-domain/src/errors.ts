/**
 * Domain errors carry a stable `code` and a family; only controllers map families to HTTP.
 * Codes are part of the public contract: never rename one.
 */
export type ErrorFamily = 'validation' | 'forbidden' | 'not-found' | 'conflict' | 'unauthorized';

export abstract class DomainError extends Error {
  abstract readonly code: string;
  abstract readonly family: ErrorFamily;
  constructor(
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** The element of a drawing (a BPMN file) an issue concerns, so an editor can show the problem on it. */
export interface IssueElement {
  id: string;
  name?: string;
  /** The element's type, e.g. `bpmn:UserTask`. */
  type: string;
}

/** One problem found in a document, named by its JSON path (`activities.review.next`). */
export interface ValidationIssue {
  path: string;
  message: string;
  /** A stable code for the problems a client may want to tell apart (e.g. `DEFINITION.SCHEDULE_CRON_INVALID`). */
  code?: string;
  /** For a document read from BPMN: the element the problem is on. */
  element?: IssueElement;
}

export class DefinitionInvalid extends DomainError {
  readonly code = 'DEFINITION.INVALID';
  readonly family = 'validation' as const;
  constructor(readonly issues: ValidationIssue[]) {
    super(`The definition is invalid: ${issues.length} problem(s)`, issues);
  }
}

export class EnvelopeInvalid extends DomainError {
  readonly code = 'ENTITY_EVENT.INVALID';
  readonly family = 'validation' as const;
  constructor(readonly issues: ValidationIssue[]) {
    super(`The entity event is invalid: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`, issues);
  }
}
