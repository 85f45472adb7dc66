/** The process definition format, v1 (docs/architecture.md, "Definition format"; examples in the README). A validated, normalised document. */

export type EntityEventKind = 'created' | 'updated' | 'deleted';

export interface Trigger {
  on: EntityEventKind;
  /** Only when one of these fields changed (per the envelope's `changed`). */
  fields?: string[];
  /** FEEL boolean expression over `{ entity }`. */
  when?: string;
  /** ISO-8601 duration: the start is scheduled this long after the event. */
  delay?: string;
}

export type Assignee = { user: string } | { role: string } | { userFrom: string };

export interface FormField {
  name: string;
  type: 'text' | 'number' | 'boolean' | 'date';
  required: boolean;
  label?: string;
}

export interface Question {
  text: string;
  options: string[];
  multiple: boolean;
}

export interface HumanActivity {
  type: 'human';
  title: string;
  instructions?: string;
  hint?: string;
  assignee: Assignee;
  /** ISO-8601 duration from the task's start to its due date. */
  dueIn?: string;
  /** Completing needs exactly one of these when present. */
  results?: string[];
  form?: FormField[];
  question?: Question;
  /** Either one activity, or one per result (every result must be mapped). */
  next: string | Record<string, string>;
}

export interface AutomaticActivity {
  type: 'automatic';
  /** Process variables: name → FEEL expression. */
  set?: Record<string, string>;
  emit?: Emit;
  next: string;
}

export interface Emit {
  topic: string;
  type: string;
  /** name → FEEL expression. */
  payload?: Record<string, string>;
}

export interface WaitActivity {
  type: 'wait';
  /** FEEL boolean; checked on entry and on every update of the related record. */
  until?: string;
  /** ISO-8601 duration. A wait needs `until`, `timeout`, or both. */
  timeout?: string;
  /** Where to go when the timeout fires; defaults to `next`. */
  onTimeout?: string;
  next: string;
}

export interface DecisionBranch {
  when: string;
  next: string;
}

export interface DecisionActivity {
  type: 'decision';
  branches: DecisionBranch[];
  otherwise: string;
}

/**
 * Work done outside the engine (docs/decisions/0007-jobs.md): entering it creates a job of `jobType`
 * that workers fetch and lock over HTTP, then complete, fail or answer with a business error.
 */
export interface ServiceActivity {
  type: 'service';
  /** What kind of work: workers fetch jobs by type. */
  jobType: string;
  /** Failures a job may have before it raises an incident (each failure takes one). */
  retries: number;
  /** ISO-8601 duration a failed job waits before it is offered again; none: at once. */
  retryBackoff?: string;
  /** What the worker gets: name → FEEL expression. Without it, the process variables. */
  inputs?: Record<string, string>;
  /** A business error code a worker may report → the activity it leads to. */
  errors?: Record<string, string>;
  next: string;
}

export interface EndActivity {
  type: 'end';
}

export type Activity =
  HumanActivity | AutomaticActivity | WaitActivity | DecisionActivity | ServiceActivity | EndActivity;
export type ActivityType = Activity['type'];

export interface ProcessDefinition {
  key: string;
  name: string;
  relatedEntity: string;
  executionOrder: number;
  enabled: boolean;
  triggers: Trigger[];
  start: string;
  activities: Record<string, Activity>;
  /** Roles that may start it by hand for a record (POST /instances); absent: admins only. */
  startableBy?: string[];
}

/** A published version of a definition, as the engine uses it. */
export interface DefinitionVersion {
  definition: ProcessDefinition;
  version: number;
}
