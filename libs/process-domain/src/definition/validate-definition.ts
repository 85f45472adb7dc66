import { type UnknownKey, validationIssues } from '../contract/issues';
import { isPlainObject } from '../entity/record-data';
import type { ValidationIssue } from '../errors';
import {
  ACTIVITY_TYPES,
  type Activity,
  definitionDocumentSchema,
  ERROR_CODE,
  DEFINITION_RULES,
  type ProcessDefinition,
  RESERVED_ACTIVITY_IDS,
  SCHEDULE_KEY_NOT_ALLOWED,
} from './definition';

export {
  DEFAULT_JOB_RETRIES,
  DEFINITION_RULES,
  ERROR_CODE,
  JOB_TYPE,
  MAX_JOB_RETRIES,
  MAX_STARTABLE_ROLES,
  RESERVED_ACTIVITY_IDS,
} from './definition';

export type DefinitionValidation =
  { ok: true; definition: ProcessDefinition } | { ok: false; issues: ValidationIssue[] };

/** One reference from an activity to another, kept to check the graph once every activity is read. */
interface Edge {
  from: string;
  to: string;
  path: string;
}

const SCHEDULE_ONLY = ['fields', 'when', 'delay'];
/** A schedule trigger (`triggers[i]`: the entity trigger knows these keys) names `fields`, `when` and `delay` apart. */
const unknownKey: UnknownKey = (key, at) =>
  at.length === 2 && at[0] === 'triggers' && SCHEDULE_ONLY.includes(key)
    ? { message: 'is not allowed with on: schedule', code: SCHEDULE_KEY_NOT_ALLOWED }
    : { message: 'unknown key' };

/**
 * Checks a parsed document against the definition format v1 (definitionDocumentSchema), then what reads across
 * activities: every reference names an activity, every activity is reachable and can reach an end. Returns the
 * document normalised, or every issue by path.
 */
export function validateDefinition(doc: unknown): DefinitionValidation {
  if (!isPlainObject(doc)) return { ok: false, issues: [{ path: '', message: 'must be an object' }] };
  const result = definitionDocumentSchema.safeParse(doc);
  const found = result.success ? [] : validationIssues(result.error.issues, unknownKey);
  // The roles are read after the graph (their issues come last, as they always did).
  const issues = found.filter((issue) => !issue.path.startsWith('startableBy'));
  checkGraph(doc, issues);
  issues.push(...found.filter((issue) => issue.path.startsWith('startableBy')));
  if (issues.length > 0 || !result.success) return { ok: false, issues };
  const definition = withoutAbsentKeys(result.data);
  // `continue` is the default: left out of the stored definition.
  if (definition.onRecordDeleted === 'continue') delete definition.onRecordDeleted;
  return { ok: true, definition };
}

/** The parsed document without the keys zod keeps for optional values left out (undefined), at any depth. */
function withoutAbsentKeys<T>(value: T): T {
  if (Array.isArray(value)) return value.map(withoutAbsentKeys) as T;
  if (!isPlainObject(value)) return value;
  const copy: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) if (item !== undefined) copy[key] = withoutAbsentKeys(item);
  return copy as T;
}

const isTarget = (value: unknown): value is string =>
  typeof value === 'string' && value.trim() !== '' && value.length <= DEFINITION_RULES.maxNameLength;
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;
const list = (value: unknown): unknown[] => (Array.isArray(value) ? value : []);
const entries = (value: unknown): [string, unknown][] => (isPlainObject(value) ? Object.entries(value) : []);

/** The references of one activity (of the document as given), in the order the format reads them. */
function referencesOf(id: string, raw: Record<string, unknown>, path: string, edges: Edge[]): void {
  const add = (to: unknown, at: string) => {
    if (isTarget(to)) edges.push({ from: id, to, path: at });
  };
  const nextOrFork = (to: unknown, at: string) => {
    if (!Array.isArray(to)) return add(to, at);
    if (to.length >= 2 && to.length <= DEFINITION_RULES.maxBranches) to.forEach((item, i) => add(item, `${at}[${i}]`));
  };
  const boundaries = () =>
    list(raw.boundary).forEach((item, i) => isPlainObject(item) && add(item.next, `${path}.boundary[${i}].next`));
  switch (raw.type) {
    case 'human': {
      boundaries();
      if (!isPlainObject(raw.next)) return nextOrFork(raw.next, `${path}.next`);
      const results = Array.isArray(raw.results) ? raw.results : undefined;
      for (const [result, to] of entries(raw.next))
        if (!results || results.includes(result)) add(to, `${path}.next.${result}`);
      return;
    }
    case 'wait':
      add(raw.onTimeout, `${path}.onTimeout`);
      boundaries();
      return nextOrFork(raw.next, `${path}.next`);
    case 'decision':
    case 'inclusive':
      if (list(raw.branches).length <= DEFINITION_RULES.maxBranches)
        list(raw.branches).forEach((b, i) => isPlainObject(b) && add(b.next, `${path}.branches[${i}].next`));
      return add(raw.otherwise, `${path}.otherwise`);
    case 'parallel':
      return nextOrFork(list(raw.branches).length > 0 ? raw.branches : undefined, `${path}.branches`);
    case 'service':
      for (const [code, to] of entries(raw.errors)) if (ERROR_CODE.test(code)) add(to, `${path}.errors.${code}`);
      return nextOrFork(raw.next, `${path}.next`);
    case 'automatic':
    case 'join':
    case 'subprocess':
      return nextOrFork(raw.next, `${path}.next`);
  }
}

/** Every reference names an activity; every activity is reachable and can reach an end (of the document as given). */
function checkGraph(doc: Record<string, unknown>, issues: ValidationIssue[]): void {
  const raw = doc.activities;
  if (!isPlainObject(raw)) return;
  const ids = Object.keys(raw);
  if (ids.length === 0 || ids.length > DEFINITION_RULES.maxActivities) return;
  // An activity with a broken body still exists as a target; its own problems are already reported.
  const declared = new Set(
    ids.filter(
      (id) => IDENTIFIER.test(id) && id.length <= DEFINITION_RULES.maxNameLength && !RESERVED_ACTIVITY_IDS.has(id),
    ),
  );
  const activities = new Map<string, Record<string, unknown>>();
  const edges: Edge[] = [];
  for (const id of declared) {
    const activity = raw[id];
    if (!isPlainObject(activity) || !(ACTIVITY_TYPES as readonly unknown[]).includes(activity.type)) continue;
    activities.set(id, activity);
    referencesOf(id, activity, `activities.${id}`, edges);
  }
  const start = isTarget(doc.start) ? doc.start : undefined;
  if (start !== undefined) {
    if (isPlainObject(doc.onRecordDeleted)) {
      const to = doc.onRecordDeleted.next;
      // The path is taken from wherever the instance is: reachable as if from the start.
      if (isTarget(to)) edges.push({ from: start, to, path: 'onRecordDeleted.next' });
    }
    list(doc.conditionalStarts).forEach((item, i) => {
      if (isPlainObject(item) && isTarget(item.next))
        edges.push({ from: start, to: item.next, path: `conditionalStarts[${i}].next` });
    });
  }

  const soundSoFar = issues.length === 0;
  let dangling = false;
  if (start !== undefined && !declared.has(start)) {
    issues.push({ path: 'start', message: `dangling start: '${start}' is not an activity` });
    dangling = true;
  }
  for (const edge of edges) {
    if (!declared.has(edge.to)) {
      issues.push({ path: edge.path, message: `dangling next: '${edge.to}' is not an activity` });
      dangling = true;
    }
  }
  const typeOf = (id: string) => activities.get(id)?.type as Activity['type'] | undefined;
  const known = [...activities.keys()];
  const forks = known.some(
    (id) => typeOf(id) === 'parallel' || typeOf(id) === 'inclusive' || Array.isArray(activities.get(id)!.next),
  );
  for (const id of known) {
    if (typeOf(id) === 'join' && !forks) {
      const message = 'a join needs a fork: a parallel or inclusive activity, or a next that lists several';
      issues.push({ path: `activities.${id}`, message });
    }
  }
  const ends = known.filter((id) => typeOf(id) === 'end');
  if (ends.length === 0 && soundSoFar) issues.push({ path: 'activities', message: 'needs at least one end activity' });
  // Reachability on a broken document would only repeat the problems already listed.
  if (!soundSoFar || dangling || start === undefined || ends.length === 0) return;

  const forward = new Map<string, string[]>(known.map((id) => [id, []]));
  const backward = new Map<string, string[]>(known.map((id) => [id, []]));
  for (const edge of edges) {
    if (!forward.has(edge.from)) continue;
    forward.get(edge.from)?.push(edge.to);
    backward.get(edge.to)?.push(edge.from);
  }
  const reachable = walk([start], forward);
  const reachesEnd = walk(ends, backward);
  for (const id of known) {
    if (!reachable.has(id))
      issues.push({ path: `activities.${id}`, message: `unreachable: no path from start '${start}'` });
    else if (!reachesEnd.has(id)) issues.push({ path: `activities.${id}`, message: 'no path to an end' });
  }
}

function walk(from: string[], links: Map<string, string[]>): Set<string> {
  const seen = new Set<string>(from);
  const queue = [...from];
  while (queue.length > 0) {
    const id = queue.shift() as string;
    for (const next of links.get(id) ?? []) {
      if (!seen.has(next)) {
        seen.add(next);
        queue.push(next);
      }
    }
  }
  return seen;
}
