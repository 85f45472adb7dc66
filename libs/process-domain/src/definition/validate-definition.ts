import type { ValidationIssue } from '../errors';
import { FORBIDDEN_KEYS, isPlainObject } from '../entity/validate-envelope';
import { checkFeel } from '../feel/feel';
import type {
  Activity,
  Assignee,
  AutomaticActivity,
  Boundary,
  DecisionActivity,
  DecisionBranch,
  Emit,
  EntityEventKind,
  EntityTrigger,
  FormField,
  HumanActivity,
  InclusiveActivity,
  JoinActivity,
  Next,
  ParallelActivity,
  ProcessDefinition,
  SubprocessActivity,
  Question,
  ScheduleTrigger,
  ServiceActivity,
  Trigger,
  WaitActivity,
} from './definition';
import { isWithinMaxDuration, MAX_DURATION, nominalDurationMs, parseDuration } from './duration';
import { DEFAULT_TIME_ZONE, MAX_CRON_LENGTH, scheduleProblems } from './schedule';

/** The shortest repeat of a boundary timer: a reminder every second would flood the log. */
const MIN_BOUNDARY_EVERY_MS = 60_000;
import { userIdProblem } from '../instance/user-id';

export type DefinitionValidation =
  { ok: true; definition: ProcessDefinition } | { ok: false; issues: ValidationIssue[] };

export const DEFINITION_RULES = {
  maxActivities: 500,
  maxTextLength: 10_000,
  maxNameLength: 200,
  defaultExecutionOrder: 100,
  /** Branches one fork may start. */
  maxBranches: 50,
  /** Boundary events on one activity. */
  maxBoundaries: 10,
};

const DEFINITION_KEY = /^[a-z0-9][a-z0-9-]{0,62}$/;
// Same bound as an envelope's entityType, so a definition can always match one.
const ENTITY_TYPE = /^[A-Za-z][A-Za-z0-9_]{0,99}$/;
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;
const TOPIC = /^[A-Za-z0-9._-]{1,249}$/;
/** A job type and a business error code: what workers and definitions name each other by. */
export const JOB_TYPE = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,99}$/;
export const ERROR_CODE = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,99}$/;
/** Names the FEEL context already uses, plus keys that would reach an object's prototype. */
export const RESERVED_ACTIVITY_IDS: ReadonlySet<string> = new Set([
  'entity',
  'record',
  'vars',
  'now',
  'today',
  ...FORBIDDEN_KEYS,
]);
const EVENT_KINDS: readonly EntityEventKind[] = ['created', 'updated', 'deleted'];
const FIELD_TYPES: readonly FormField['type'][] = ['text', 'number', 'boolean', 'date'];
/** The keys of each activity type, in the order a normalised definition stores them. */
const ACTIVITY_KEYS: Record<Activity['type'], readonly string[]> = {
  human: [
    'type',
    'title',
    'instructions',
    'hint',
    'assignee',
    'dueIn',
    'results',
    'form',
    'question',
    'completeWhen',
    'boundary',
    'next',
  ],
  automatic: ['type', 'set', 'emit', 'next'],
  wait: ['type', 'until', 'timeout', 'onTimeout', 'boundary', 'next'],
  decision: ['type', 'branches', 'otherwise'],
  service: ['type', 'jobType', 'retries', 'retryBackoff', 'inputs', 'errors', 'next'],
  end: ['type', 'terminate'],
  parallel: ['type', 'branches'],
  inclusive: ['type', 'branches', 'otherwise'],
  join: ['type', 'next'],
  subprocess: ['type', 'process', 'version', 'record', 'inputs', 'outputs', 'next'],
};
/** Failures a job may have before an incident, unless its activity says otherwise. */
export const DEFAULT_JOB_RETRIES = 3;
export const MAX_JOB_RETRIES = 100;

/** One reference from an activity to another, kept to check the graph once every activity is read. */
interface Edge {
  from: string;
  to: string;
  path: string;
}

const join = (path: string, key: string) => (path === '' ? key : `${path}.${key}`);

/** Reads untrusted values, recording every problem by path. */
class Reader {
  readonly issues: ValidationIssue[] = [];

  issue(path: string, message: string, code?: string): void {
    this.issues.push(code === undefined ? { path, message } : { path, message, code });
  }

  /** An object whose keys are all in `allowed`; unknown keys are reported. */
  object(value: unknown, path: string, allowed: readonly string[] | 'any'): Record<string, unknown> | undefined {
    if (!isPlainObject(value)) {
      this.issue(path, 'must be an object');
      return undefined;
    }
    if (allowed !== 'any') {
      for (const key of Object.keys(value)) {
        if (!allowed.includes(key)) this.issue(join(path, key), 'unknown key');
      }
    }
    return value;
  }

  string(
    parent: Record<string, unknown>,
    key: string,
    path: string,
    options: { required?: boolean; max?: number; pattern?: RegExp; patternText?: string } = {},
  ): string | undefined {
    const value = parent[key];
    const at = join(path, key);
    if (value === undefined || value === null) {
      if (options.required) this.issue(at, 'is required');
      return undefined;
    }
    return this.text(value, at, options);
  }

  text(
    value: unknown,
    at: string,
    options: { max?: number; pattern?: RegExp; patternText?: string } = {},
  ): string | undefined {
    const max = options.max ?? DEFINITION_RULES.maxTextLength;
    if (typeof value !== 'string' || value.trim() === '') {
      this.issue(at, 'must be a non-empty string');
      return undefined;
    }
    if (value.length > max) {
      this.issue(at, `must be at most ${max} characters`);
      return undefined;
    }
    if (options.pattern && !options.pattern.test(value)) {
      this.issue(at, `must match ${options.patternText ?? String(options.pattern)}`);
      return undefined;
    }
    return value;
  }

  feel(parent: Record<string, unknown>, key: string, path: string, required = false): string | undefined {
    const expression = this.string(parent, key, path, { required });
    return expression === undefined ? undefined : this.feelText(expression, join(path, key));
  }

  feelText(expression: unknown, at: string): string | undefined {
    const text = this.text(expression, at);
    if (text === undefined) return undefined;
    const syntaxError = checkFeel(text);
    if (syntaxError !== undefined) {
      this.issue(at, `invalid FEEL: ${syntaxError}`);
      return undefined;
    }
    return text;
  }

  duration(parent: Record<string, unknown>, key: string, path: string): string | undefined {
    const text = this.string(parent, key, path);
    if (text === undefined) return undefined;
    const duration = parseDuration(text);
    if (!duration) {
      this.issue(join(path, key), `'${text}' is not an ISO-8601 duration such as P2D or PT10M`);
      return undefined;
    }
    // Bounded so that every date computed from it is a valid instant (README, Limits).
    if (!isWithinMaxDuration(duration)) {
      this.issue(
        join(path, key),
        `'${text}' is longer than ${MAX_DURATION.text} (${MAX_DURATION.years} years, the longest duration allowed)`,
      );
      return undefined;
    }
    return text;
  }

  boolean(parent: Record<string, unknown>, key: string, path: string, fallback: boolean): boolean {
    const value = parent[key];
    if (value === undefined || value === null) return fallback;
    if (typeof value !== 'boolean') {
      this.issue(join(path, key), 'must be true or false');
      return fallback;
    }
    return value;
  }

  /** A non-empty list of distinct non-empty strings. */
  uniqueStrings(value: unknown, at: string): string[] | undefined {
    if (!Array.isArray(value) || value.length === 0) {
      this.issue(at, 'must be a non-empty list');
      return undefined;
    }
    const seen = new Set<string>();
    let valid = true;
    value.forEach((item: unknown, index) => {
      const text = this.text(item, `${at}[${index}]`, { max: DEFINITION_RULES.maxNameLength });
      if (text === undefined) valid = false;
      else if (seen.has(text)) {
        this.issue(`${at}[${index}]`, `'${text}' is listed twice`);
        valid = false;
      } else seen.add(text);
    });
    return valid ? [...seen] : undefined;
  }

  /** name → FEEL expression, names being identifiers. */
  expressionMap(value: unknown, at: string): Record<string, string> | undefined {
    const map = this.object(value, at, 'any');
    if (!map) return undefined;
    const result: Record<string, string> = {};
    for (const [name, expression] of Object.entries(map)) {
      if (!IDENTIFIER.test(name) || FORBIDDEN_KEYS.has(name)) {
        this.issue(
          join(at, name),
          'must be an identifier ([A-Za-z_][A-Za-z0-9_]*, not __proto__/constructor/prototype)',
        );
        continue;
      }
      const text = this.feelText(expression, join(at, name));
      if (text !== undefined) result[name] = text;
    }
    return result;
  }
}

/** Checks a parsed document against the definition format v1 and returns it normalised, or every issue by path. */
export function validateDefinition(doc: unknown): DefinitionValidation {
  const r = new Reader();
  const top = r.object(doc, '', [
    'key',
    'name',
    'relatedEntity',
    'executionOrder',
    'enabled',
    'triggers',
    'start',
    'activities',
    'startableBy',
    'onRecordDeleted',
    'conditionalStarts',
  ]);
  if (!top) return { ok: false, issues: r.issues };

  const key = r.string(top, 'key', '', {
    required: true,
    pattern: DEFINITION_KEY,
    patternText: 'lower-case letters, digits and dashes, at most 63 (e.g. invoice-approval)',
  });
  const name = r.string(top, 'name', '', { required: true, max: DEFINITION_RULES.maxNameLength });
  const relatedEntity = r.string(top, 'relatedEntity', '', {
    required: true,
    pattern: ENTITY_TYPE,
    patternText: 'an entity type name ([A-Za-z][A-Za-z0-9_]*, at most 100)',
  });
  const executionOrder = readExecutionOrder(r, top.executionOrder);
  const enabled = r.boolean(top, 'enabled', '', true);
  const triggers = readTriggers(r, top.triggers);
  const start = r.string(top, 'start', '', { required: true, max: DEFINITION_RULES.maxNameLength });

  const edges: Edge[] = [];
  const declared = new Set<string>();
  const activities = readActivities(r, top.activities, edges, declared);
  const onRecordDeleted = readOnRecordDeleted(r, top.onRecordDeleted, start, edges);
  const conditionalStarts = readConditionalStarts(r, top.conditionalStarts, start, edges);

  if (activities) checkGraph(r, activities, declared, start, edges);
  const startableBy = readStartableBy(r, top.startableBy);

  if (r.issues.length > 0) return { ok: false, issues: r.issues };
  return {
    ok: true,
    definition: {
      key: key as string,
      name: name as string,
      relatedEntity: relatedEntity as string,
      executionOrder,
      enabled,
      triggers,
      start: start as string,
      activities: activities as Record<string, Activity>,
      ...(startableBy ? { startableBy } : {}),
      ...(onRecordDeleted !== undefined && onRecordDeleted !== 'continue' ? { onRecordDeleted } : {}),
      ...(conditionalStarts ? { conditionalStarts } : {}),
    },
  };
}

/** `conditionalStarts`: `{ when, next }` pairs; each `next` is reachable as if from the start. */
function readConditionalStarts(
  r: Reader,
  value: unknown,
  start: string | undefined,
  edges: Edge[],
): { when: string; next: string }[] | undefined {
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value) || value.length === 0 || value.length > DEFINITION_RULES.maxBoundaries) {
    r.issue('conditionalStarts', `must be a list of 1 to ${DEFINITION_RULES.maxBoundaries} { when, next }`);
    return undefined;
  }
  const out: { when: string; next: string }[] = [];
  value.forEach((item: unknown, index) => {
    const at = `conditionalStarts[${index}]`;
    const raw = r.object(item, at, ['when', 'next']);
    if (!raw) return;
    const when = r.feel(raw, 'when', at, true);
    const next = r.string(raw, 'next', at, { required: true, max: DEFINITION_RULES.maxNameLength });
    if (next !== undefined && start !== undefined) edges.push({ from: start, to: next, path: `${at}.next` });
    if (when !== undefined && next !== undefined) out.push({ when, next });
  });
  return out.length === value.length ? out : undefined;
}

/** `onRecordDeleted`: continue (the default, left out of the stored definition), terminate, or `{ next }`. */
function readOnRecordDeleted(
  r: Reader,
  value: unknown,
  start: string | undefined,
  edges: Edge[],
): ProcessDefinition['onRecordDeleted'] {
  if (value === undefined || value === null) return undefined;
  if (value === 'continue' || value === 'terminate') return value;
  if (isPlainObject(value)) {
    const raw = r.object(value, 'onRecordDeleted', ['next']);
    if (!raw) return undefined;
    const next = r.string(raw, 'next', 'onRecordDeleted', { required: true, max: DEFINITION_RULES.maxNameLength });
    if (next === undefined) return undefined;
    // The path is taken from wherever the instance is: reachable as if from the start.
    if (start !== undefined) edges.push({ from: start, to: next, path: 'onRecordDeleted.next' });
    return { next };
  }
  r.issue('onRecordDeleted', 'must be continue, terminate or { next: <activity> }');
  return undefined;
}

/** Roles a definition may name in `startableBy`. */
export const MAX_STARTABLE_ROLES = 50;
// The role names a token may carry (services/api/src/auth/jwt.ts): any other name could never match a caller.
const ROLE = /^[A-Za-z0-9_.:-]{1,100}$/;

/** `startableBy`: distinct role names; absent (or null) means admins only, so an empty list is refused as a likely slip. */
function readStartableBy(r: Reader, value: unknown): string[] | undefined {
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value) || value.length === 0) {
    r.issue('startableBy', 'must be a non-empty list of role names (leave it out to let only admins start it)');
    return undefined;
  }
  if (value.length > MAX_STARTABLE_ROLES) {
    r.issue('startableBy', `must name at most ${MAX_STARTABLE_ROLES} roles (has ${value.length})`);
    return undefined;
  }
  const roles = new Set<string>();
  value.forEach((item: unknown, index) => {
    const at = `startableBy[${index}]`;
    const role = r.text(item, at, {
      max: 100,
      pattern: ROLE,
      patternText: 'a role name ([A-Za-z0-9_.:-], at most 100)',
    });
    if (role === undefined) return;
    if (roles.has(role)) r.issue(at, `the role '${role}' is listed twice`);
    roles.add(role);
  });
  return [...roles];
}

function readExecutionOrder(r: Reader, value: unknown): number {
  if (value === undefined || value === null) return DEFINITION_RULES.defaultExecutionOrder;
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) {
    r.issue('executionOrder', 'must be an integer');
    return DEFINITION_RULES.defaultExecutionOrder;
  }
  return value;
}

function readTriggers(r: Reader, value: unknown): Trigger[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) {
    r.issue('triggers', 'must be a list');
    return [];
  }
  const triggers: Trigger[] = [];
  let scheduleAt: string | undefined;
  value.forEach((item: unknown, index) => {
    const path = `triggers[${index}]`;
    if (isPlainObject(item) && item.on === 'schedule') {
      // One schedule per definition: its state (the last tick fired) is kept per definition.
      if (scheduleAt !== undefined) {
        r.issue(join(path, 'on'), `only one schedule trigger per definition (${scheduleAt} is one)`, SCHEDULE_TWICE);
      } else scheduleAt = path;
      const trigger = readScheduleTrigger(r, item, path);
      if (trigger) triggers.push(trigger);
      return;
    }
    const raw = r.object(item, path, ['on', 'fields', 'when', 'delay']);
    if (!raw) return;
    const on = r.string(raw, 'on', path, { required: true });
    if (on !== undefined && !(EVENT_KINDS as readonly string[]).includes(on)) {
      r.issue(join(path, 'on'), 'must be one of created, updated, deleted, schedule');
    }
    const trigger: EntityTrigger = { on: on as EntityEventKind };
    if (raw.fields !== undefined && raw.fields !== null) {
      if (on !== 'updated') r.issue(join(path, 'fields'), 'is only allowed with on: updated');
      const fields = r.uniqueStrings(raw.fields, join(path, 'fields'));
      if (fields) trigger.fields = fields;
    }
    const when = r.feel(raw, 'when', path);
    if (when !== undefined) trigger.when = when;
    const delay = r.duration(raw, 'delay', path);
    if (delay !== undefined) trigger.delay = delay;
    triggers.push(trigger);
  });
  return triggers;
}

const SCHEDULE_KEYS = ['on', 'cron', 'timeZone'];
const SCHEDULE_KEY_NOT_ALLOWED = 'DEFINITION.SCHEDULE_KEY_NOT_ALLOWED';
const SCHEDULE_TWICE = 'DEFINITION.SCHEDULE_TWICE';

/** `{ on: schedule, cron, timeZone? }`: no `fields`, `when` or `delay` (there is no record event to test or delay). */
function readScheduleTrigger(r: Reader, raw: Record<string, unknown>, path: string): ScheduleTrigger | undefined {
  let valid = true;
  for (const key of Object.keys(raw)) {
    if (SCHEDULE_KEYS.includes(key)) continue;
    valid = false;
    if (key === 'fields' || key === 'when' || key === 'delay') {
      r.issue(join(path, key), `is not allowed with on: schedule`, SCHEDULE_KEY_NOT_ALLOWED);
    } else r.issue(join(path, key), 'unknown key');
  }
  // Refused before any parsing, with the cron's own code: a megabyte of cron text is no expression.
  if (typeof raw.cron === 'string' && raw.cron.length > MAX_CRON_LENGTH) {
    r.issue(join(path, 'cron'), `must be at most ${MAX_CRON_LENGTH} characters`, 'DEFINITION.SCHEDULE_CRON_INVALID');
    return undefined;
  }
  const cron = r.string(raw, 'cron', path, { required: true });
  const timeZone =
    raw.timeZone === undefined || raw.timeZone === null
      ? DEFAULT_TIME_ZONE
      : r.string(raw, 'timeZone', path, { max: 64 });
  if (cron === undefined || timeZone === undefined) return undefined;
  const problems = scheduleProblems(cron, timeZone);
  for (const problem of problems) r.issue(join(path, problem.path), problem.message, problem.code);
  if (problems.length > 0) return undefined;
  return valid ? { on: 'schedule', cron, timeZone } : undefined;
}

function readActivities(
  r: Reader,
  value: unknown,
  edges: Edge[],
  declared: Set<string>,
): Record<string, Activity> | undefined {
  if (value === undefined || value === null) {
    r.issue('activities', 'is required');
    return undefined;
  }
  const raw = r.object(value, 'activities', 'any');
  if (!raw) return undefined;
  const ids = Object.keys(raw);
  if (ids.length === 0) {
    r.issue('activities', 'must have at least one activity');
    return undefined;
  }
  if (ids.length > DEFINITION_RULES.maxActivities) {
    r.issue('activities', `must have at most ${DEFINITION_RULES.maxActivities} activities (has ${ids.length})`);
    return undefined;
  }
  const activities: Record<string, Activity> = {};
  for (const id of ids) {
    const path = `activities.${id}`;
    if (!IDENTIFIER.test(id) || id.length > DEFINITION_RULES.maxNameLength) {
      r.issue(path, 'the activity id must be an identifier ([A-Za-z_][A-Za-z0-9_]*)');
      continue;
    }
    if (RESERVED_ACTIVITY_IDS.has(id)) {
      r.issue(path, `'${id}' is reserved and cannot be an activity id`);
      continue;
    }
    declared.add(id);
    const activity = readActivity(r, raw[id], id, path, edges);
    if (activity) activities[id] = activity;
  }
  return activities;
}

function readActivity(r: Reader, value: unknown, id: string, path: string, edges: Edge[]): Activity | undefined {
  const raw = r.object(value, path, 'any');
  if (!raw) return undefined;
  const type = raw.type;
  if (typeof type !== 'string' || !Object.prototype.hasOwnProperty.call(ACTIVITY_KEYS, type)) {
    r.issue(join(path, 'type'), `must be one of ${Object.keys(ACTIVITY_KEYS).join(', ')}`);
    return undefined;
  }
  const activityType = type as Activity['type'];
  r.object(raw, path, ACTIVITY_KEYS[activityType]);
  const next = (value: unknown, at: string): string | undefined => {
    const target = r.text(value, at, { max: DEFINITION_RULES.maxNameLength });
    if (target !== undefined) edges.push({ from: id, to: target, path: at });
    return target;
  };
  /** The targets of a fork: at least two distinct activities. */
  const targets = (value: unknown, at: string): string[] | undefined => {
    if (!Array.isArray(value) || value.length < 2 || value.length > DEFINITION_RULES.maxBranches) {
      r.issue(at, `must list from 2 to ${DEFINITION_RULES.maxBranches} activities`);
      return undefined;
    }
    const out: string[] = [];
    value.forEach((item: unknown, index) => {
      const target = next(item, `${at}[${index}]`);
      if (target === undefined) return;
      if (out.includes(target)) r.issue(`${at}[${index}]`, `'${target}' is listed twice`);
      else out.push(target);
    });
    return out.length === value.length ? out : undefined;
  };
  /** One activity, or a list of them: the flow forks into parallel branches there. */
  const nextOrFork = (value: unknown, at: string): Next | undefined =>
    Array.isArray(value) ? targets(value, at) : next(value, at);
  const requiredNext = (): Next | undefined => {
    if (raw.next === undefined || raw.next === null) {
      r.issue(join(path, 'next'), 'is required');
      return undefined;
    }
    return nextOrFork(raw.next, join(path, 'next'));
  };

  switch (activityType) {
    case 'human':
      return readHuman(r, raw, path, next, nextOrFork);
    case 'automatic': {
      const activity: AutomaticActivity = { type: 'automatic', next: '' };
      if (raw.set !== undefined && raw.set !== null) {
        const set = r.expressionMap(raw.set, join(path, 'set'));
        if (isPlainObject(raw.set) && Object.keys(raw.set).length === 0) {
          r.issue(join(path, 'set'), 'must set at least one variable');
        }
        if (set) activity.set = set;
      }
      if (raw.emit !== undefined && raw.emit !== null) {
        const emit = readEmit(r, raw.emit, join(path, 'emit'));
        if (emit) activity.emit = emit;
      }
      if ((raw.set === undefined || raw.set === null) && (raw.emit === undefined || raw.emit === null)) {
        r.issue(path, 'an automatic activity needs set, emit or both');
      }
      activity.next = requiredNext() ?? '';
      return reorder(activity, ACTIVITY_KEYS.automatic as readonly (keyof AutomaticActivity)[]);
    }
    case 'wait': {
      const activity: WaitActivity = { type: 'wait', next: '' };
      const until = r.feel(raw, 'until', path);
      if (until !== undefined) activity.until = until;
      const timeout = r.duration(raw, 'timeout', path);
      if (timeout !== undefined) activity.timeout = timeout;
      const hasUntil = raw.until !== undefined && raw.until !== null;
      const hasTimeout = raw.timeout !== undefined && raw.timeout !== null;
      if (!hasUntil && !hasTimeout) r.issue(path, 'a wait needs until, timeout or both');
      if (raw.onTimeout !== undefined && raw.onTimeout !== null) {
        if (!hasTimeout) r.issue(join(path, 'onTimeout'), 'is only allowed with a timeout');
        const onTimeout = next(raw.onTimeout, join(path, 'onTimeout'));
        if (onTimeout !== undefined) activity.onTimeout = onTimeout;
      }
      const boundary = readBoundaries(r, raw.boundary, join(path, 'boundary'), next, false);
      if (boundary) activity.boundary = boundary;
      activity.next = requiredNext() ?? '';
      return reorder(activity, ACTIVITY_KEYS.wait as readonly (keyof WaitActivity)[]);
    }
    case 'decision':
    case 'inclusive': {
      const branches: DecisionBranch[] = [];
      const branchesPath = join(path, 'branches');
      if (!Array.isArray(raw.branches) || raw.branches.length === 0) {
        r.issue(branchesPath, 'must be a non-empty list of { when, next }');
      } else if (raw.branches.length > DEFINITION_RULES.maxBranches) {
        r.issue(branchesPath, `must have at most ${DEFINITION_RULES.maxBranches} branches`);
      } else {
        raw.branches.forEach((item: unknown, index) => {
          const at = `${branchesPath}[${index}]`;
          const branch = r.object(item, at, ['when', 'next']);
          if (!branch) return;
          const when = r.feel(branch, 'when', at, true);
          const to =
            branch.next === undefined || branch.next === null
              ? (r.issue(join(at, 'next'), 'is required'), undefined)
              : next(branch.next, join(at, 'next'));
          if (when !== undefined && to !== undefined) branches.push({ when, next: to });
        });
      }
      let otherwise = '';
      if (raw.otherwise === undefined || raw.otherwise === null) r.issue(join(path, 'otherwise'), 'is required');
      else otherwise = next(raw.otherwise, join(path, 'otherwise')) ?? '';
      return activityType === 'decision'
        ? ({ type: 'decision', branches, otherwise } satisfies DecisionActivity)
        : ({ type: 'inclusive', branches, otherwise } satisfies InclusiveActivity);
    }
    case 'parallel': {
      const branches = targets(raw.branches, join(path, 'branches')) ?? [];
      return { type: 'parallel', branches } satisfies ParallelActivity;
    }
    case 'join': {
      const activity: JoinActivity = { type: 'join', next: requiredNext() ?? '' };
      return activity;
    }
    case 'subprocess': {
      const process = r.string(raw, 'process', path, {
        required: true,
        pattern: DEFINITION_KEY,
        patternText: 'a definition key (lower-case letters, digits and dashes)',
      });
      const activity: SubprocessActivity = { type: 'subprocess', process: process ?? '', next: '' };
      if (raw.version !== undefined && raw.version !== null) {
        const version = raw.version;
        if (typeof version !== 'number' || !Number.isInteger(version) || version < 1 || version > 1_000_000) {
          r.issue(join(path, 'version'), 'must be a version number (a whole number from 1)');
        } else activity.version = version;
      }
      if (raw.record !== undefined && raw.record !== null) {
        const recordPath = join(path, 'record');
        const record = r.object(raw.record, recordPath, ['type', 'id']);
        if (record) {
          const type = r.string(record, 'type', recordPath, {
            required: true,
            pattern: ENTITY_TYPE,
            patternText: 'an entity type name ([A-Za-z][A-Za-z0-9_]*, at most 100)',
          });
          const id = r.feel(record, 'id', recordPath, true);
          if (type !== undefined && id !== undefined) activity.record = { type, id };
        }
      }
      if (raw.inputs !== undefined && raw.inputs !== null) {
        const inputs = r.expressionMap(raw.inputs, join(path, 'inputs'));
        if (inputs) activity.inputs = inputs;
      }
      if (raw.outputs !== undefined && raw.outputs !== null) {
        const outputs = r.expressionMap(raw.outputs, join(path, 'outputs'));
        if (outputs) activity.outputs = outputs;
      }
      activity.next = requiredNext() ?? '';
      return reorder(activity, ACTIVITY_KEYS.subprocess as readonly (keyof SubprocessActivity)[]);
    }
    case 'service':
      return readService(r, raw, path, next, requiredNext);
    case 'end': {
      if (raw.terminate !== undefined && raw.terminate !== null && typeof raw.terminate !== 'boolean') {
        r.issue(join(path, 'terminate'), 'must be true or false');
      }
      return raw.terminate === true ? { type: 'end', terminate: true } : { type: 'end' };
    }
    default: {
      const unreachable: never = activityType;
      throw new Error(`unknown activity type ${String(unreachable)}`);
    }
  }
}

function readHuman(
  r: Reader,
  raw: Record<string, unknown>,
  path: string,
  next: (to: unknown, at: string) => string | undefined,
  nextOrFork: (to: unknown, at: string) => Next | undefined,
): HumanActivity {
  const title = r.string(raw, 'title', path, { required: true, max: DEFINITION_RULES.maxNameLength }) ?? '';
  const activity: HumanActivity = { type: 'human', title, assignee: { role: '' }, next: '' };
  const instructions = r.string(raw, 'instructions', path);
  if (instructions !== undefined) activity.instructions = instructions;
  const hint = r.string(raw, 'hint', path);
  if (hint !== undefined) activity.hint = hint;

  const assignee = readAssignee(r, raw.assignee, join(path, 'assignee'));
  if (assignee) activity.assignee = assignee;
  const dueIn = r.duration(raw, 'dueIn', path);
  if (dueIn !== undefined) activity.dueIn = dueIn;

  let results: string[] | undefined;
  if (raw.results !== undefined && raw.results !== null) {
    results = r.uniqueStrings(raw.results, join(path, 'results'));
    if (results) activity.results = results;
  }
  if (raw.form !== undefined && raw.form !== null) {
    const form = readForm(r, raw.form, join(path, 'form'));
    if (form) activity.form = form;
  }
  if (raw.question !== undefined && raw.question !== null) {
    const question = readQuestion(r, raw.question, join(path, 'question'));
    if (question) activity.question = question;
  }
  const completeWhen = r.feel(raw, 'completeWhen', path);
  if (completeWhen !== undefined) {
    if (raw.results !== undefined && raw.results !== null) {
      r.issue(join(path, 'completeWhen'), 'a task its record completes has no result to give: leave out results');
    } else activity.completeWhen = completeWhen;
  }
  const boundary = readBoundaries(r, raw.boundary, join(path, 'boundary'), next, true);
  if (boundary) activity.boundary = boundary;

  const nextPath = join(path, 'next');
  if (raw.next === undefined || raw.next === null) {
    r.issue(nextPath, 'is required');
  } else if (isPlainObject(raw.next)) {
    const byResult: Record<string, string> = {};
    if (raw.results === undefined || raw.results === null) {
      r.issue(nextPath, 'a next per result needs results');
    }
    for (const [result, to] of Object.entries(raw.next)) {
      if (results && !results.includes(result)) {
        r.issue(join(nextPath, result), `'${result}' is not one of the results`);
        continue;
      }
      const target = next(to, join(nextPath, result));
      if (target !== undefined && !FORBIDDEN_KEYS.has(result)) byResult[result] = target;
    }
    for (const result of results ?? []) {
      if (!Object.prototype.hasOwnProperty.call(raw.next, result)) {
        r.issue(nextPath, `the result '${result}' has no next`);
      }
    }
    activity.next = byResult;
  } else {
    activity.next = nextOrFork(raw.next, nextPath) ?? '';
  }
  return reorder(activity, ACTIVITY_KEYS.human as readonly (keyof HumanActivity)[]);
}

/** A human task's or a wait's boundary events; `onTask`: reassign and remind are allowed (a wait has no task). */
function readBoundaries(
  r: Reader,
  value: unknown,
  path: string,
  next: (to: unknown, at: string) => string | undefined,
  onTask: boolean,
): Boundary[] | undefined {
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value) || value.length === 0 || value.length > DEFINITION_RULES.maxBoundaries) {
    r.issue(path, `must be a list of 1 to ${DEFINITION_RULES.maxBoundaries} boundary events`);
    return undefined;
  }
  const out: Boundary[] = [];
  value.forEach((item: unknown, index) => {
    const at = `${path}[${index}]`;
    const raw = r.object(item, at, ['after', 'every', 'when', 'next', 'reassign', 'remind']);
    if (!raw) return;
    const has = (key: string) => raw[key] !== undefined && raw[key] !== null;
    if (has('after') === has('when')) {
      r.issue(at, 'needs exactly one of after (a timer) or when (a record condition)');
      return;
    }
    const actions = ['next', 'reassign', 'remind'].filter(has);
    if (actions.length !== 1) {
      r.issue(at, onTask ? 'needs exactly one of next, reassign or remind' : 'needs next');
      return;
    }
    if (!onTask && actions[0] !== 'next') {
      r.issue(join(at, actions[0]!), 'a wait has no task: only next (interrupting) is allowed');
      return;
    }
    if (has('when')) {
      if (actions[0] !== 'next') {
        r.issue(at, 'a record condition interrupts: it needs next');
        return;
      }
      const when = r.feel(raw, 'when', at, true);
      const to = next(raw.next, join(at, 'next'));
      if (when !== undefined && to !== undefined) out.push({ when, next: to });
      return;
    }
    const after = r.duration(raw, 'after', at);
    if (after === undefined) return;
    if (actions[0] === 'next') {
      if (has('every'))
        r.issue(join(at, 'every'), 'only a boundary that does not interrupt (reassign, remind) repeats');
      const to = next(raw.next, join(at, 'next'));
      if (to !== undefined) out.push({ after, next: to });
      return;
    }
    const every = r.duration(raw, 'every', at);
    if (every !== undefined && nominalDurationMs(parseDuration(every)!) < MIN_BOUNDARY_EVERY_MS) {
      r.issue(join(at, 'every'), 'must be at least PT1M');
      return;
    }
    if (actions[0] === 'remind') {
      if (raw.remind !== true) {
        r.issue(join(at, 'remind'), 'must be true');
        return;
      }
      out.push(every !== undefined ? { after, every, remind: true } : { after, remind: true });
      return;
    }
    const reassign = readAssignee(r, raw.reassign, join(at, 'reassign'));
    if (!reassign) return;
    if (!('user' in reassign) && !('role' in reassign)) {
      r.issue(join(at, 'reassign'), 'must name a user or a role');
      return;
    }
    out.push(every !== undefined ? { after, every, reassign } : { after, reassign });
  });
  return out.length === value.length ? out : undefined;
}

function readService(
  r: Reader,
  raw: Record<string, unknown>,
  path: string,
  next: (to: unknown, at: string) => string | undefined,
  requiredNext: () => Next | undefined,
): ServiceActivity {
  const jobType =
    r.string(raw, 'jobType', path, {
      required: true,
      pattern: JOB_TYPE,
      patternText: 'a job type ([A-Za-z0-9][A-Za-z0-9_.:-]*, at most 100)',
    }) ?? '';
  const activity: ServiceActivity = { type: 'service', jobType, retries: DEFAULT_JOB_RETRIES, next: '' };
  if (raw.retries !== undefined && raw.retries !== null) {
    const retries = raw.retries;
    if (typeof retries !== 'number' || !Number.isInteger(retries) || retries < 1 || retries > MAX_JOB_RETRIES) {
      r.issue(join(path, 'retries'), `must be a whole number from 1 to ${MAX_JOB_RETRIES}`);
    } else activity.retries = retries;
  }
  const retryBackoff = r.duration(raw, 'retryBackoff', path);
  if (retryBackoff !== undefined) activity.retryBackoff = retryBackoff;
  if (raw.inputs !== undefined && raw.inputs !== null) {
    const inputs = r.expressionMap(raw.inputs, join(path, 'inputs'));
    if (inputs) activity.inputs = inputs;
  }
  if (raw.errors !== undefined && raw.errors !== null) {
    const errorsPath = join(path, 'errors');
    const map = r.object(raw.errors, errorsPath, 'any');
    if (map) {
      if (Object.keys(map).length === 0) r.issue(errorsPath, 'must name at least one error code');
      const errors: Record<string, string> = {};
      for (const [code, to] of Object.entries(map)) {
        if (!ERROR_CODE.test(code) || FORBIDDEN_KEYS.has(code)) {
          r.issue(join(errorsPath, code), 'must be an error code ([A-Za-z0-9][A-Za-z0-9_.:-]*, at most 100)');
          continue;
        }
        const target = next(to, join(errorsPath, code));
        if (target !== undefined) errors[code] = target;
      }
      activity.errors = errors;
    }
  }
  activity.next = requiredNext() ?? '';
  return reorder(activity, ACTIVITY_KEYS.service as readonly (keyof ServiceActivity)[]);
}

function readAssignee(r: Reader, value: unknown, path: string): Assignee | undefined {
  if (value === undefined || value === null) {
    r.issue(path, 'is required: { user }, { role } or { userFrom }');
    return undefined;
  }
  const raw = r.object(value, path, ['user', 'role', 'userFrom']);
  if (!raw) return undefined;
  const given = Object.keys(raw).filter((key) => ['user', 'role', 'userFrom'].includes(key));
  if (given.length !== 1) {
    r.issue(path, 'must have exactly one of user, role, userFrom');
    return undefined;
  }
  const [kind] = given;
  if (kind === 'userFrom') {
    const userFrom = r.feel(raw, 'userFrom', path, true);
    return userFrom === undefined ? undefined : { userFrom };
  }
  const name = r.string(raw, kind, path, { required: true, max: DEFINITION_RULES.maxNameLength });
  if (name === undefined) return undefined;
  const problem = kind === 'user' ? userIdProblem(name) : undefined;
  if (problem) {
    r.issue(join(path, 'user'), problem);
    return undefined;
  }
  return kind === 'user' ? { user: name } : { role: name };
}

function readForm(r: Reader, value: unknown, path: string): FormField[] | undefined {
  if (!Array.isArray(value)) {
    r.issue(path, 'must be a list of fields');
    return undefined;
  }
  const names = new Set<string>();
  const form: FormField[] = [];
  value.forEach((item: unknown, index) => {
    const at = `${path}[${index}]`;
    const raw = r.object(item, at, ['name', 'type', 'required', 'label']);
    if (!raw) return;
    const name = r.string(raw, 'name', at, {
      required: true,
      max: DEFINITION_RULES.maxNameLength,
      pattern: IDENTIFIER,
      patternText: 'an identifier ([A-Za-z_][A-Za-z0-9_]*)',
    });
    if (name !== undefined && FORBIDDEN_KEYS.has(name)) r.issue(join(at, 'name'), `'${name}' is reserved`);
    else if (name !== undefined && names.has(name)) r.issue(join(at, 'name'), `the field '${name}' is listed twice`);
    if (name !== undefined) names.add(name);
    let type: FormField['type'] = 'text';
    if (raw.type !== undefined && raw.type !== null) {
      if (typeof raw.type === 'string' && (FIELD_TYPES as readonly string[]).includes(raw.type)) {
        type = raw.type as FormField['type'];
      } else {
        r.issue(join(at, 'type'), 'must be one of text, number, boolean, date');
      }
    }
    const field: FormField = { name: name ?? '', type, required: r.boolean(raw, 'required', at, false) };
    const label = r.string(raw, 'label', at, { max: DEFINITION_RULES.maxNameLength });
    if (label !== undefined) field.label = label;
    form.push(field);
  });
  return form;
}

function readQuestion(r: Reader, value: unknown, path: string): Question | undefined {
  const raw = r.object(value, path, ['text', 'options', 'multiple']);
  if (!raw) return undefined;
  const text = r.string(raw, 'text', path, { required: true });
  const options =
    raw.options === undefined || raw.options === null
      ? (r.issue(join(path, 'options'), 'is required'), undefined)
      : r.uniqueStrings(raw.options, join(path, 'options'));
  const multiple = r.boolean(raw, 'multiple', path, false);
  if (text === undefined || options === undefined) return undefined;
  return { text, options, multiple };
}

function readEmit(r: Reader, value: unknown, path: string): Emit | undefined {
  const raw = r.object(value, path, ['topic', 'type', 'payload']);
  if (!raw) return undefined;
  const topic = r.string(raw, 'topic', path, {
    required: true,
    pattern: TOPIC,
    patternText: 'a Kafka topic name ([A-Za-z0-9._-], at most 249)',
  });
  const type = r.string(raw, 'type', path, { required: true, max: DEFINITION_RULES.maxNameLength });
  const emit: Emit = { topic: topic ?? '', type: type ?? '' };
  if (raw.payload !== undefined && raw.payload !== null) {
    const payload = r.expressionMap(raw.payload, join(path, 'payload'));
    if (payload) emit.payload = payload;
  }
  return emit;
}

/** Every reference names an activity; every activity is reachable and can reach an end. */
function checkGraph(
  r: Reader,
  activities: Record<string, Activity>,
  declared: Set<string>,
  start: string | undefined,
  edges: Edge[],
): void {
  // An activity with a broken body still exists as a target; its own problems are already reported.
  const exists = (id: string) => declared.has(id);
  const soundSoFar = r.issues.length === 0;
  let dangling = false;
  if (start !== undefined && !exists(start)) {
    r.issue('start', `dangling start: '${start}' is not an activity`);
    dangling = true;
  }
  for (const edge of edges) {
    if (!exists(edge.to)) {
      r.issue(edge.path, `dangling next: '${edge.to}' is not an activity`);
      dangling = true;
    }
  }
  const ids = Object.keys(activities);
  const forks = ids.some((id) => {
    const a = activities[id];
    return a.type === 'parallel' || a.type === 'inclusive' || ('next' in a && Array.isArray(a.next));
  });
  for (const id of ids) {
    if (activities[id].type === 'join' && !forks) {
      r.issue(
        `activities.${id}`,
        'a join needs a fork: a parallel or inclusive activity, or a next that lists several',
      );
    }
  }
  const ends = ids.filter((id) => activities[id].type === 'end');
  if (ends.length === 0 && soundSoFar) r.issue('activities', 'needs at least one end activity');
  // Reachability on a broken document would only repeat the problems already listed.
  if (!soundSoFar || dangling || start === undefined || ends.length === 0) return;

  const forward = new Map<string, string[]>(ids.map((id) => [id, []]));
  const backward = new Map<string, string[]>(ids.map((id) => [id, []]));
  for (const edge of edges) {
    if (!forward.has(edge.from)) continue;
    forward.get(edge.from)?.push(edge.to);
    backward.get(edge.to)?.push(edge.from);
  }
  const reachable = walk([start], forward);
  const reachesEnd = walk(ends, backward);
  for (const id of ids) {
    if (!reachable.has(id)) r.issue(`activities.${id}`, `unreachable: no path from start '${start}'`);
    else if (!reachesEnd.has(id)) r.issue(`activities.${id}`, 'no path to an end');
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

/** The same object with its keys in the documented order, for stable, readable events. */
function reorder<T extends object>(value: T, order: readonly (keyof T)[]): T {
  const copy = {} as T;
  for (const key of order) {
    if (value[key] !== undefined) copy[key] = value[key];
  }
  return copy;
}
