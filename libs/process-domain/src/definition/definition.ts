/** The process definition format, v1 (docs/architecture.md, "Definition format"; examples in the README). A validated, normalised document. */

import type { EntityEventKind } from '../contract/names';

export type { EntityEventKind };

/** A trigger: an event of the related record (`on: created|updated|deleted`), or a schedule (`on: schedule`). */
export type Trigger = EntityTrigger | ScheduleTrigger;

export interface EntityTrigger {
  on: EntityEventKind;
  /** Only when one of these fields changed (per the envelope's `changed`). */
  fields?: string[];
  /** FEEL boolean expression over `{ entity }`. */
  when?: string;
  /** ISO-8601 duration: the start is scheduled this long after the event. */
  delay?: string;
}

/**
 * Where the flow goes after an activity: one activity, or several at once (`next: [a, b]` forks the
 * token into parallel branches that meet again at a `join`).
 */
export type Next = string | string[];

/**
 * Starts one instance per tick of a cron expression, on a record of its own (README, "Scheduled starts").
 * Ticks missed while no engine ran fire once, as the latest of them.
 */
export interface ScheduleTrigger {
  on: 'schedule';
  /** A cron expression: 5 fields, or 6 with seconds first (croner syntax). */
  cron: string;
  /** The IANA time zone the expression is read in (default UTC). */
  timeZone: string;
}

export const isScheduleTrigger = (trigger: Trigger): trigger is ScheduleTrigger => trigger.on === 'schedule';

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

/**
 * An event attached to a human task or a wait while it is open (BPMN's boundary events):
 * - a timer `after` the activity was entered that interrupts (`next`: the task is cancelled, or the wait
 *   left, and the line goes on at `next`: an escalation), or that does not (`reassign` the task, or `remind`;
 *   `every` repeats it while the activity is open);
 * - a record condition `when` (FEEL, checked on entry and on every update of the record) that interrupts.
 */
export type Boundary =
  | { after: string; next: string }
  | { after: string; every?: string; reassign: { user: string } | { role: string } }
  | { after: string; every?: string; remind: true }
  | { when: string; next: string };

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
  /**
   * FEEL over the record: the task completes itself when an update of its record (or the record as it is on
   * entry) satisfies it (Creatio's "fill out the record page"). Only with a `next` that needs no result.
   */
  completeWhen?: string;
  boundary?: Boundary[];
  /** One activity (or a fork into several), or one per result (every result must be mapped). */
  next: Next | Record<string, string>;
}

export interface AutomaticActivity {
  type: 'automatic';
  /** Process variables: name → FEEL expression. */
  set?: Record<string, string>;
  emit?: Emit;
  next: Next;
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
  /** Interrupting boundaries only (`next`): a wait has no task to reassign or remind about. */
  boundary?: Boundary[];
  next: Next;
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
  next: Next;
}

/**
 * Ends the branch that reaches it; the instance completes when no branch is left. `terminate: true`
 * completes the instance at once, cancelling the other branches' tasks, waits and jobs.
 */
export interface EndActivity {
  type: 'end';
  terminate?: boolean;
}

/**
 * Runs another definition as a child instance ("Execute Process") and waits for it to end: for the same record, or
 * the one `record` names; `inputs` become the child's variables, `outputs` the parent's when the child completes.
 */
export interface SubprocessActivity {
  type: 'subprocess';
  /** The child's definition key. */
  process: string;
  /** A pinned version; absent: the latest version when the activity is entered. */
  version?: number;
  /** Another record: its entity type, and FEEL for its id (over the parent's context). Absent: the same record. */
  record?: { type: string; id: string };
  /** The child's variables: name → FEEL over the parent's context. */
  inputs?: Record<string, string>;
  /** The parent's variables when the child completes: name → FEEL, where `child` holds the child's variables. */
  outputs?: Record<string, string>;
  next: Next;
}

/** Forks into every branch at once; the branches meet again at a `join`. */
export interface ParallelActivity {
  type: 'parallel';
  branches: string[];
}

/** Forks into every branch whose condition holds (`otherwise` when none does); they meet again at a `join`. */
export interface InclusiveActivity {
  type: 'inclusive';
  branches: DecisionBranch[];
  otherwise: string;
}

/**
 * Waits for exactly the branches the fork took (counted per entry of the fork, so a fork inside a loop
 * waits for the branches of that round), then goes on with the line that forked.
 */
export interface JoinActivity {
  type: 'join';
  next: Next;
}

export type Activity =
  | HumanActivity
  | AutomaticActivity
  | WaitActivity
  | DecisionActivity
  | ServiceActivity
  | EndActivity
  | ParallelActivity
  | InclusiveActivity
  | JoinActivity
  | SubprocessActivity;
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
  /**
   * What a running instance does when its record is deleted: go on (`continue`, the default: nothing recorded is
   * cut short unless the definition says so), `terminate`, or leave every activity and go to `next`.
   */
  onRecordDeleted?: 'continue' | 'terminate' | { next: string };
  /**
   * Branches a running instance starts when an entity event of its record meets `when` (OutSystems BPT's
   * Conditional Start): each such event starts a new line at `next` while the rest of the instance goes on.
   */
  conditionalStarts?: { when: string; next: string }[];
}

/** A published version of a definition, as the engine uses it. */
export interface DefinitionVersion {
  definition: ProcessDefinition;
  version: number;
}
