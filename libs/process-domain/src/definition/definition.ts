/**
 * The process definition format, v1 (docs/architecture.md, "Definition format"; examples in the README), as one zod
 * schema: it gives the types below, the checks with their paths and messages, and the JSON Schema (contract/json-schema).
 * What reads across activities (references, reachability) is validate-definition's.
 */
import { z } from 'zod';
import {
  clean,
  DEFINITION_KEY,
  ENTITY_EVENT_KINDS,
  ENTITY_TYPE,
  type EntityEventKind,
  first,
  requiredOr,
} from '../contract/names';
import { FORBIDDEN_KEYS, isPlainObject } from '../entity/record-data';
import { checkFeel } from '../feel/feel';
import { userIdProblem } from '../instance/user-id';
import { isWithinMaxDuration, MAX_DURATION, nominalDurationMs, parseDuration } from './duration';
import { DEFAULT_TIME_ZONE, MAX_CRON_LENGTH, scheduleProblems } from './schedule';

export type { EntityEventKind };

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
/** A job type and a business error code: what workers and definitions name each other by. */
export const JOB_TYPE = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,99}$/;
export const ERROR_CODE = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,99}$/;
/** Failures a job may have before an incident, unless its activity says otherwise. */
export const DEFAULT_JOB_RETRIES = 3;
export const MAX_JOB_RETRIES = 100;
/** Roles a definition may name in `startableBy`. */
export const MAX_STARTABLE_ROLES = 50;
/** Names the FEEL context already uses, plus keys that would reach an object's prototype. */
export const RESERVED_ACTIVITY_IDS: ReadonlySet<string> = new Set([
  'entity',
  'record',
  'vars',
  'now',
  'today',
  ...FORBIDDEN_KEYS,
]);
export const SCHEDULE_KEY_NOT_ALLOWED = 'DEFINITION.SCHEDULE_KEY_NOT_ALLOWED';
/** The shortest repeat of a boundary timer: a reminder every second would flood the log. */
const MIN_BOUNDARY_EVERY_MS = 60_000;
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;
const TOPIC = /^[A-Za-z0-9._-]{1,249}$/;
// The role names a token may carry (services/api/src/auth/jwt.ts): any other name could never match a caller.
const ROLE = /^[A-Za-z0-9_.:-]{1,100}$/;

// ---- The pieces: every message is the contract's (clients and tests read them). ----

const NON_EMPTY = 'must be a non-empty string';
const CLEAN = { when: clean };
/** Runs a check of a whole list or object even when some of its items have issues. */
const ALWAYS = { when: () => true };
/** Object checks that read several fields: only once those fields are valid (unknown keys aside). */
const FIELDS_READ = {
  when: (payload: { issues: { code?: string }[] }) => payload.issues.every((i) => i.code === 'unrecognized_keys'),
};
export const ACTIVITY_TYPES = [
  'human',
  'automatic',
  'wait',
  'decision',
  'service',
  'end',
  'parallel',
  'inclusive',
  'join',
  'subprocess',
] as const;

/** A non-empty string of at most `max` characters; a missing required key `is required`. */
const text = (max = DEFINITION_RULES.maxTextLength, missing = requiredOr(NON_EMPTY)) =>
  z
    .string({ error: missing })
    .min(1, first(NON_EMPTY))
    .refine((value) => value.trim() !== '', first(NON_EMPTY))
    .max(max, first(`must be at most ${max} characters`));
/** An item of a list or a reference, where nothing is `required`. */
const itemText = (max = DEFINITION_RULES.maxNameLength) => text(max, () => NON_EMPTY);
const matching = (pattern: RegExp, what: string, max?: number, missing?: (issue: { input?: unknown }) => string) =>
  text(max, missing).regex(pattern, first(`must match ${what}`));
/** A reference to an activity (checked against the activities by validate-definition). */
const target = itemText();

/** A key that may be left out; null counts as left out (YAML's `key:`). */
const opt = <T extends z.ZodType>(schema: T) =>
  z.preprocess((value) => (value === null ? undefined : value), schema.optional());
/** A key with a default: the normalised definition always has it. */
const orDefault = <T extends z.ZodType>(schema: T, fallback: z.util.NoUndefined<z.output<T>>) =>
  z.preprocess((value) => (value === null ? undefined : value), schema.default(fallback));
const flag = (fallback: boolean) => orDefault(z.boolean({ error: 'must be true or false' }), fallback);

const feelText = (missing?: (issue: { input?: unknown }) => string) =>
  text(undefined, missing).check(
    z.superRefine((expression: string, ctx) => {
      const problem = checkFeel(expression);
      if (problem !== undefined) ctx.addIssue({ code: 'custom', message: `invalid FEEL: ${problem}` });
    }, CLEAN),
  );
const feel = feelText();
const feelValue = feelText(() => NON_EMPTY);

/** An ISO-8601 duration of at most MAX_DURATION, so that every date computed from it is a valid instant (README, Limits). */
const duration = text().check(
  z.superRefine((value: string, ctx) => {
    const parsed = parseDuration(value);
    if (!parsed)
      ctx.addIssue({ code: 'custom', message: `'${value}' is not an ISO-8601 duration such as P2D or PT10M` });
    else if (!isWithinMaxDuration(parsed)) {
      const longest = `${MAX_DURATION.text} (${MAX_DURATION.years} years, the longest duration allowed)`;
      ctx.addIssue({ code: 'custom', message: `'${value}' is longer than ${longest}` });
    }
  }, CLEAN),
);

/** An issue of the item at `index` of a list, reported where a reader of the list meets it (contract/issues). */
const itemIssue = (index: number, message: string, key?: string, code?: string) => {
  const path = key === undefined ? [index] : [index, key];
  return { code: 'custom', message, path, params: { item: path.length, code } } as const;
};

/** Issues for the items whose `name` (of those that are strings) another item has already. */
function listedTwice<T>(name: (item: T) => unknown, message: (name: string) => string, key?: string) {
  return (items: T[], ctx: z.RefinementCtx) => {
    if (!Array.isArray(items)) return;
    const seen = new Set<string>();
    items.forEach((item, index) => {
      const value = name(item);
      if (typeof value !== 'string') return;
      if (seen.has(value)) ctx.addIssue(itemIssue(index, message(value), key));
      seen.add(value);
    });
  };
}

/** A non-empty list of distinct names. */
const names = z
  .array(itemText(), { error: requiredOr('must be a non-empty list') })
  .min(1, first('must be a non-empty list'))
  .check(
    z.superRefine(
      listedTwice(
        (name: unknown) => name,
        (name) => `'${name}' is listed twice`,
      ),
      ALWAYS,
    ),
  );

/** A map whose keys are checked first (zod's record skips an own `__proto__` key: it is refused here). */
const keyedMap = <V extends z.ZodType>(key: z.ZodType<string>, value: V, keyMessage: string, nonEmpty?: string) =>
  z.preprocess(
    (map, ctx) => {
      if (isPlainObject(map) && Object.prototype.hasOwnProperty.call(map, '__proto__'))
        ctx.issues.push({ code: 'custom', message: keyMessage, input: map, path: ['__proto__'] });
      else if (nonEmpty !== undefined && isPlainObject(map) && Object.keys(map).length === 0)
        ctx.issues.push({ code: 'custom', message: nonEmpty, input: map });
      return map;
    },
    z.record(key, value, { error: 'must be an object' }),
  );
const NAME_KEY = 'must be an identifier ([A-Za-z_][A-Za-z0-9_]*, not __proto__/constructor/prototype)';
/** name → FEEL expression, names being identifiers. */
const expressions = keyedMap(
  z
    .string()
    .regex(IDENTIFIER, NAME_KEY)
    .refine((name) => !FORBIDDEN_KEYS.has(name), NAME_KEY),
  feelValue,
  NAME_KEY,
);

/**
 * Options read by the one a look at the input picks (or a message when none fits): zod's unions stop at the first
 * mismatch, these go on reading the chosen option. The type and the JSON Schema are the union's.
 */
function oneOf<const T extends readonly [z.ZodType, ...z.ZodType[]]>(
  options: T,
  pick: (input: unknown) => z.ZodType | string | { message: string; at: string },
  keys?: readonly string[],
) {
  return z.preprocess((input, ctx) => {
    const chosen = pick(input);
    const unknown = keys && isPlainObject(input) ? Object.keys(input).filter((key) => !keys.includes(key)) : [];
    // A message instead of an option: the unknown keys (of the union's, `keys`) are named too, before it.
    if (!(chosen instanceof z.ZodType) && unknown.length > 0)
      ctx.issues.push({ code: 'unrecognized_keys', keys: unknown, input } as never);
    if (typeof chosen === 'string') ctx.issues.push({ code: 'custom', message: chosen, input });
    else if ('at' in chosen) ctx.issues.push({ code: 'custom', message: chosen.message, input, path: [chosen.at] });
    else {
      const result = chosen.safeParse(input);
      if (!result.success) for (const issue of result.error.issues) ctx.issues.push({ ...issue, input } as never);
    }
    return input;
  }, z.union(options));
}
const has = (input: unknown, key: string) => isPlainObject(input) && input[key] !== undefined && input[key] !== null;

// ---- Triggers ----

/** A trigger on an event of the related record. */
const entityTriggerSchema = z
  .strictObject(
    {
      on: z.enum(ENTITY_EVENT_KINDS, {
        // Read as text first: a value that is no text gets the text's message.
        error: (issue) =>
          text().safeParse(issue.input).error?.issues[0]?.message ??
          'must be one of created, updated, deleted, schedule',
      }),
      /** Only when one of these fields changed (per the envelope's `changed`). */
      fields: opt(names),
      /** FEEL boolean expression over `{ entity }`. */
      when: opt(feel),
      /** ISO-8601 duration: the start is scheduled this long after the event. */
      delay: opt(duration),
    },
    { error: 'must be an object' },
  )
  .check(
    z.superRefine((trigger, ctx) => {
      if (isPlainObject(trigger) && trigger.fields !== undefined && trigger.on !== 'updated')
        ctx.addIssue({ code: 'custom', message: 'is only allowed with on: updated', path: ['fields'] });
    }, ALWAYS),
  );

/**
 * Starts one instance per tick of a cron expression, on a record of its own (README, "Scheduled starts").
 * Ticks missed while no engine ran fire once, as the latest of them. No `fields`, `when` or `delay`: there is
 * no record event to test or delay (contract/issues names those keys with SCHEDULE_KEY_NOT_ALLOWED).
 */
const scheduleTriggerSchema = z
  .strictObject({
    on: z.literal('schedule'),
    /** A cron expression: 5 fields, or 6 with seconds first (croner syntax). */
    cron: z.preprocess((cron, ctx) => {
      // Refused before any parsing, with the cron's own code: a megabyte of cron text is no expression.
      if (typeof cron === 'string' && cron.length > MAX_CRON_LENGTH) {
        const message = `must be at most ${MAX_CRON_LENGTH} characters`;
        ctx.issues.push({ code: 'custom', message, input: cron, params: { code: 'DEFINITION.SCHEDULE_CRON_INVALID' } });
      }
      return cron;
    }, text()),
    /** The IANA time zone the expression is read in (default UTC). */
    timeZone: orDefault(text(64), DEFAULT_TIME_ZONE),
  })
  .check(
    z.superRefine((trigger, ctx) => {
      for (const { path, message, code } of scheduleProblems(trigger.cron, trigger.timeZone))
        ctx.addIssue({ code: 'custom', message, path: [path], params: { code } });
    }, FIELDS_READ),
  );

export const triggerSchema = oneOf([scheduleTriggerSchema, entityTriggerSchema], (input) =>
  isPlainObject(input) && input.on === 'schedule' ? scheduleTriggerSchema : entityTriggerSchema,
);

// ---- Activities ----

/** One activity, or several at once (`next: [a, b]` forks the token into parallel branches that meet at a `join`). */
const fork = z
  .array(target, { error: `must list from 2 to ${DEFINITION_RULES.maxBranches} activities` })
  .min(2, first(`must list from 2 to ${DEFINITION_RULES.maxBranches} activities`))
  .max(DEFINITION_RULES.maxBranches, first(`must list from 2 to ${DEFINITION_RULES.maxBranches} activities`))
  .check(
    z.superRefine(
      listedTwice(
        (to: unknown) => to,
        (to) => `'${to}' is listed twice`,
      ),
      ALWAYS,
    ),
  );
const nextSchema = oneOf([target, fork], (input) =>
  input === undefined || input === null ? 'is required' : Array.isArray(input) ? fork : target,
);

const user = text(DEFINITION_RULES.maxNameLength).check(
  z.superRefine((name: string, ctx) => {
    const problem = userIdProblem(name);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  }, CLEAN),
);
const byUser = z.strictObject({ user });
const byRole = z.strictObject({ role: text(DEFINITION_RULES.maxNameLength) });
const byUserFrom = z.strictObject({ userFrom: feel });
const ASSIGNEE_KEYS = ['user', 'role', 'userFrom'] as const;
/** Who a task goes to: a user, a role, or FEEL naming a user. */
const assigneeSchema = oneOf(
  [byUser, byRole, byUserFrom],
  (input) => {
    if (input === undefined || input === null) return 'is required: { user }, { role } or { userFrom }';
    if (!isPlainObject(input)) return 'must be an object';
    const given = ASSIGNEE_KEYS.filter((key) => key in input);
    if (given.length !== 1) return 'must have exactly one of user, role, userFrom';
    return given[0] === 'user' ? byUser : given[0] === 'role' ? byRole : byUserFrom;
  },
  ASSIGNEE_KEYS,
);

/**
 * An event attached to a human task or a wait while it is open (BPMN's boundary events):
 * - a timer `after` the activity was entered that interrupts (`next`: the task is cancelled, or the wait
 *   left, and the line goes on at `next`: an escalation), or that does not (`reassign` the task, or `remind`;
 *   `every` repeats it while the activity is open);
 * - a record condition `when` (FEEL, checked on entry and on every update of the record) that interrupts.
 */
const every = duration.check(
  z.superRefine((value: string, ctx) => {
    const parsed = parseDuration(value);
    if (parsed && nominalDurationMs(parsed) < MIN_BOUNDARY_EVERY_MS)
      ctx.addIssue({ code: 'custom', message: 'must be at least PT1M' });
  }, CLEAN),
);
const interrupting = z.strictObject({ after: duration, next: target });
const reassigning = z.strictObject({
  after: duration,
  every: opt(every),
  reassign: oneOf(
    [byUser, byRole],
    (input) => {
      if (!isPlainObject(input)) return 'must be an object';
      const given = ASSIGNEE_KEYS.filter((key) => key in input);
      if (given.length !== 1) return 'must have exactly one of user, role, userFrom';
      return given[0] === 'user' ? byUser : given[0] === 'role' ? byRole : 'must name a user or a role';
    },
    ASSIGNEE_KEYS,
  ),
});
const reminding = z.strictObject({
  after: duration,
  every: opt(every),
  remind: z.literal(true, { error: 'must be true' }),
});
const onCondition = z.strictObject({ when: feel, next: target });
const BOUNDARY_KEYS = ['after', 'every', 'when', 'next', 'reassign', 'remind'];
const ACTIONS = ['next', 'reassign', 'remind'] as const;

/** A human task's or a wait's boundary events; `onTask`: reassign and remind are allowed (a wait has no task). */
const boundaries = (onTask: boolean) =>
  z
    .array(
      oneOf(
        [interrupting, reassigning, reminding, onCondition],
        (input) => {
          if (!isPlainObject(input)) return 'must be an object';
          if (has(input, 'after') === has(input, 'when'))
            return 'needs exactly one of after (a timer) or when (a record condition)';
          const actions = ACTIONS.filter((key) => has(input, key));
          if (actions.length !== 1) return onTask ? 'needs exactly one of next, reassign or remind' : 'needs next';
          if (!onTask && actions[0] !== 'next')
            return { message: 'a wait has no task: only next (interrupting) is allowed', at: actions[0]! };
          if (has(input, 'when'))
            return actions[0] === 'next' ? onCondition : 'a record condition interrupts: it needs next';
          if (actions[0] === 'next' && has(input, 'every'))
            return { message: 'only a boundary that does not interrupt (reassign, remind) repeats', at: 'every' };
          return actions[0] === 'next' ? interrupting : actions[0] === 'reassign' ? reassigning : reminding;
        },
        BOUNDARY_KEYS,
      ),
      { error: `must be a list of 1 to ${DEFINITION_RULES.maxBoundaries} boundary events` },
    )
    .min(1, first(`must be a list of 1 to ${DEFINITION_RULES.maxBoundaries} boundary events`))
    .max(
      DEFINITION_RULES.maxBoundaries,
      first(`must be a list of 1 to ${DEFINITION_RULES.maxBoundaries} boundary events`),
    );

const formFieldSchema = z.strictObject(
  {
    name: matching(IDENTIFIER, 'an identifier ([A-Za-z_][A-Za-z0-9_]*)', DEFINITION_RULES.maxNameLength).refine(
      (name) => !FORBIDDEN_KEYS.has(name),
      { error: (issue) => `'${String(issue.input)}' is reserved` },
    ),
    type: orDefault(
      z.enum(['text', 'number', 'boolean', 'date'], { error: 'must be one of text, number, boolean, date' }),
      'text',
    ),
    required: flag(false),
    label: opt(text(DEFINITION_RULES.maxNameLength)),
  },
  { error: 'must be an object' },
);

const questionSchema = z.strictObject(
  { text: text(), options: names, multiple: flag(false) },
  { error: 'must be an object' },
);

const nextByResult = z.record(z.string(), target);

/** A human task: someone's work, with its form, its results and its deadline. */
const humanActivitySchema = z
  .strictObject({
    type: z.literal('human'),
    title: text(DEFINITION_RULES.maxNameLength),
    instructions: opt(text()),
    hint: opt(text()),
    assignee: assigneeSchema,
    /** ISO-8601 duration from the task's start to its due date. */
    dueIn: opt(duration),
    /** Completing needs exactly one of these when present. */
    results: opt(names),
    form: opt(
      z.array(formFieldSchema, { error: 'must be a list of fields' }).check(
        z.superRefine(
          listedTwice(
            (field: { name?: unknown }) => field?.name,
            (name) => `the field '${name}' is listed twice`,
            'name',
          ),
          ALWAYS,
        ),
      ),
    ),
    question: opt(questionSchema),
    /**
     * FEEL over the record: the task completes itself when an update of its record (or the record as it is on
     * entry) satisfies it (Creatio's "fill out the record page"). Only with a `next` that needs no result.
     */
    completeWhen: opt(feel),
    boundary: opt(boundaries(true)),
    /** One activity (or a fork into several), or one per result (every result must be mapped). */
    next: oneOf([target, fork, nextByResult], (input) =>
      input === undefined || input === null
        ? 'is required'
        : Array.isArray(input)
          ? fork
          : isPlainObject(input)
            ? nextByResult
            : target,
    ),
  })
  .check(
    z.superRefine((activity, ctx) => {
      const results = activity.results;
      if (activity.completeWhen !== undefined && results !== undefined) {
        const message = 'a task its record completes has no result to give: leave out results';
        ctx.addIssue({ code: 'custom', message, path: ['completeWhen'] });
      }
      if (typeof activity.next !== 'object' || Array.isArray(activity.next)) return;
      if (results === undefined)
        ctx.addIssue({ code: 'custom', message: 'a next per result needs results', path: ['next'] });
      for (const result of Object.keys(activity.next)) {
        if (results && !results.includes(result))
          ctx.addIssue({ code: 'custom', message: `'${result}' is not one of the results`, path: ['next', result] });
      }
      for (const result of results ?? []) {
        if (!Object.prototype.hasOwnProperty.call(activity.next, result))
          ctx.addIssue({ code: 'custom', message: `the result '${result}' has no next`, path: ['next'] });
      }
    }, FIELDS_READ),
  );

export const emitSchema = z.strictObject(
  {
    topic: matching(TOPIC, 'a Kafka topic name ([A-Za-z0-9._-], at most 249)'),
    type: text(DEFINITION_RULES.maxNameLength),
    /** name → FEEL expression. */
    payload: opt(expressions),
  },
  { error: 'must be an object' },
);

const automaticActivitySchema = z
  .strictObject({
    type: z.literal('automatic'),
    /** Process variables: name → FEEL expression. */
    set: opt(
      keyedMap(
        z
          .string()
          .regex(IDENTIFIER, NAME_KEY)
          .refine((name) => !FORBIDDEN_KEYS.has(name), NAME_KEY),
        feelValue,
        NAME_KEY,
        'must set at least one variable',
      ),
    ),
    emit: opt(emitSchema),
    next: nextSchema,
  })
  .check(
    z.superRefine((activity, ctx) => {
      if (isPlainObject(activity) && activity.set === undefined && activity.emit === undefined)
        ctx.addIssue({ code: 'custom', message: 'an automatic activity needs set, emit or both', path: [] });
    }, ALWAYS),
  );

const waitActivitySchema = z
  .strictObject({
    type: z.literal('wait'),
    /** FEEL boolean; checked on entry and on every update of the related record. */
    until: opt(feel),
    /** ISO-8601 duration. A wait needs `until`, `timeout`, or both. */
    timeout: opt(duration),
    /** Where to go when the timeout fires; defaults to `next`. */
    onTimeout: opt(target),
    /** Interrupting boundaries only (`next`): a wait has no task to reassign or remind about. */
    boundary: opt(boundaries(false)),
    next: nextSchema,
  })
  .check(
    z.superRefine((activity, ctx) => {
      if (!isPlainObject(activity)) return;
      if (activity.until === undefined && activity.timeout === undefined)
        ctx.addIssue({ code: 'custom', message: 'a wait needs until, timeout or both', path: [] });
      if (activity.onTimeout !== undefined && activity.timeout === undefined)
        ctx.addIssue({ code: 'custom', message: 'is only allowed with a timeout', path: ['onTimeout'] });
    }, ALWAYS),
  );

const branchSchema = z.strictObject(
  { when: feel, next: text(DEFINITION_RULES.maxNameLength) },
  { error: 'must be an object' },
);
const branches = z
  .array(branchSchema, { error: 'must be a non-empty list of { when, next }' })
  .min(1, first('must be a non-empty list of { when, next }'))
  .max(DEFINITION_RULES.maxBranches, first(`must have at most ${DEFINITION_RULES.maxBranches} branches`));

/** The first branch whose condition holds, else `otherwise`. */
const decisionActivitySchema = z.strictObject({
  type: z.literal('decision'),
  branches,
  otherwise: text(DEFINITION_RULES.maxNameLength),
});

/**
 * Work done outside the engine (docs/decisions/0007-jobs.md): entering it creates a job of `jobType`
 * that workers fetch and lock over HTTP, then complete, fail or answer with a business error.
 */
const serviceActivitySchema = z.strictObject({
  type: z.literal('service'),
  /** What kind of work: workers fetch jobs by type. */
  jobType: matching(JOB_TYPE, 'a job type ([A-Za-z0-9][A-Za-z0-9_.:-]*, at most 100)'),
  /** Failures a job may have before it raises an incident (each failure takes one). */
  retries: orDefault(
    z
      .int({ error: `must be a whole number from 1 to ${MAX_JOB_RETRIES}` })
      .min(1, first(`must be a whole number from 1 to ${MAX_JOB_RETRIES}`))
      .max(MAX_JOB_RETRIES, first(`must be a whole number from 1 to ${MAX_JOB_RETRIES}`)),
    DEFAULT_JOB_RETRIES,
  ),
  /** ISO-8601 duration a failed job waits before it is offered again; none: at once. */
  retryBackoff: opt(duration),
  /** What the worker gets: name → FEEL expression. Without it, the process variables. */
  inputs: opt(expressions),
  /** A business error code a worker may report → the activity it leads to. */
  errors: opt(
    keyedMap(
      z
        .string()
        .regex(ERROR_CODE, ERROR_CODE_KEY())
        .refine((code) => !FORBIDDEN_KEYS.has(code), ERROR_CODE_KEY()),
      target,
      ERROR_CODE_KEY(),
      'must name at least one error code',
    ),
  ),
  next: nextSchema,
});
function ERROR_CODE_KEY(): string {
  return 'must be an error code ([A-Za-z0-9][A-Za-z0-9_.:-]*, at most 100)';
}

/**
 * Ends the branch that reaches it; the instance completes when no branch is left. `terminate: true`
 * completes the instance at once, cancelling the other branches' tasks, waits and jobs.
 */
const endActivitySchema = z
  .strictObject({ type: z.literal('end'), terminate: opt(z.boolean({ error: 'must be true or false' })) })
  .transform(({ terminate }) =>
    terminate === true ? { type: 'end' as const, terminate: true } : { type: 'end' as const },
  );

/**
 * Runs another definition as a child instance ("Execute Process") and waits for it to end: for the same record, or
 * the one `record` names; `inputs` become the child's variables, `outputs` the parent's when the child completes.
 */
const subprocessActivitySchema = z.strictObject({
  type: z.literal('subprocess'),
  /** The child's definition key. */
  process: matching(DEFINITION_KEY, 'a definition key (lower-case letters, digits and dashes)'),
  /** A pinned version; absent: the latest version when the activity is entered. */
  version: opt(
    z
      .int({ error: 'must be a version number (a whole number from 1)' })
      .min(1, first('must be a version number (a whole number from 1)'))
      .max(1_000_000, first('must be a version number (a whole number from 1)')),
  ),
  /** Another record: its entity type, and FEEL for its id (over the parent's context). Absent: the same record. */
  record: opt(
    z.strictObject(
      { type: matching(ENTITY_TYPE, 'an entity type name ([A-Za-z][A-Za-z0-9_]*, at most 100)'), id: feel },
      { error: 'must be an object' },
    ),
  ),
  /** The child's variables: name → FEEL over the parent's context. */
  inputs: opt(expressions),
  /** The parent's variables when the child completes: name → FEEL, where `child` holds the child's variables. */
  outputs: opt(expressions),
  next: nextSchema,
});

/** Forks into every branch at once; the branches meet again at a `join`. */
const parallelActivitySchema = z.strictObject({ type: z.literal('parallel'), branches: fork });

/** Forks into every branch whose condition holds (`otherwise` when none does); they meet again at a `join`. */
const inclusiveActivitySchema = z.strictObject({
  type: z.literal('inclusive'),
  branches,
  otherwise: text(DEFINITION_RULES.maxNameLength),
});

/**
 * Waits for exactly the branches the fork took (counted per entry of the fork, so a fork inside a loop
 * waits for the branches of that round), then goes on with the line that forked.
 */
const joinActivitySchema = z.strictObject({ type: z.literal('join'), next: nextSchema });

export const activitySchema = z.discriminatedUnion(
  'type',
  [
    humanActivitySchema,
    automaticActivitySchema,
    waitActivitySchema,
    decisionActivitySchema,
    serviceActivitySchema,
    endActivitySchema,
    parallelActivitySchema,
    inclusiveActivitySchema,
    joinActivitySchema,
    subprocessActivitySchema,
  ],
  {
    error: (issue) =>
      (issue.code as string) === 'invalid_type' ? 'must be an object' : `must be one of ${ACTIVITY_TYPES.join(', ')}`,
  },
);

const ACTIVITY_ID = 'the activity id must be an identifier ([A-Za-z_][A-Za-z0-9_]*)';
const activityId = z
  .string()
  .max(DEFINITION_RULES.maxNameLength, first(ACTIVITY_ID))
  .regex(IDENTIFIER, first(ACTIVITY_ID))
  .refine((id) => !RESERVED_ACTIVITY_IDS.has(id), {
    error: (issue) => `'${String(issue.input)}' is reserved and cannot be an activity id`,
  });

const activities = z.preprocess(
  (value, ctx) => {
    if (!isPlainObject(value)) return value;
    const count = Object.keys(value).length;
    if (count === 0) ctx.issues.push({ code: 'custom', message: 'must have at least one activity', input: value });
    else if (count > DEFINITION_RULES.maxActivities) {
      const message = `must have at most ${DEFINITION_RULES.maxActivities} activities (has ${count})`;
      ctx.issues.push({ code: 'custom', message, input: value });
    } else if (Object.prototype.hasOwnProperty.call(value, '__proto__')) {
      const message = "'__proto__' is reserved and cannot be an activity id";
      ctx.issues.push({ code: 'custom', message, input: value, path: ['__proto__'] });
    }
    return value;
  },
  z.record(activityId, activitySchema, { error: requiredOr('must be an object') }),
);

const startableBy = z
  .array(
    matching(ROLE, 'a role name ([A-Za-z0-9_.:-], at most 100)', 100, () => NON_EMPTY),
    {
      error: 'must be a non-empty list of role names (leave it out to let only admins start it)',
    },
  )
  .min(1, first('must be a non-empty list of role names (leave it out to let only admins start it)'))
  .max(
    MAX_STARTABLE_ROLES,
    first((issue) => `must name at most ${MAX_STARTABLE_ROLES} roles (has ${(issue.input as unknown[]).length})`),
  )
  .check(
    z.superRefine(
      listedTwice(
        (role: unknown) => role,
        (role) => `the role '${role}' is listed twice`,
      ),
      ALWAYS,
    ),
  );

const onRecordDeleted = oneOf([z.enum(['continue', 'terminate']), z.strictObject({ next: target })], (input) =>
  input === 'continue' || input === 'terminate'
    ? z.enum(['continue', 'terminate'])
    : isPlainObject(input)
      ? z.strictObject({ next: text(DEFINITION_RULES.maxNameLength) })
      : 'must be continue, terminate or { next: <activity> }',
);

const conditionalStarts = z
  .array(z.strictObject({ when: feel, next: text(DEFINITION_RULES.maxNameLength) }, { error: 'must be an object' }), {
    error: `must be a list of 1 to ${DEFINITION_RULES.maxBoundaries} { when, next }`,
  })
  .min(1, first(`must be a list of 1 to ${DEFINITION_RULES.maxBoundaries} { when, next }`))
  .max(
    DEFINITION_RULES.maxBoundaries,
    first(`must be a list of 1 to ${DEFINITION_RULES.maxBoundaries} { when, next }`),
  );

const SCHEDULE_TWICE = 'DEFINITION.SCHEDULE_TWICE';

/** A definition document, read and normalised (every default filled in, keys in this order). */
export const definitionDocumentSchema = z.strictObject(
  {
    key: matching(DEFINITION_KEY, 'lower-case letters, digits and dashes, at most 63 (e.g. invoice-approval)'),
    name: text(DEFINITION_RULES.maxNameLength),
    relatedEntity: matching(ENTITY_TYPE, 'an entity type name ([A-Za-z][A-Za-z0-9_]*, at most 100)'),
    executionOrder: orDefault(z.int({ error: 'must be an integer' }), DEFINITION_RULES.defaultExecutionOrder),
    enabled: flag(true),
    triggers: orDefault(
      z.array(triggerSchema, { error: 'must be a list' }).check(
        z.superRefine((triggers, ctx) => {
          // One schedule per definition: its state (the last tick fired) is kept per definition.
          let first: number | undefined;
          if (Array.isArray(triggers))
            triggers.forEach((trigger, index) => {
              if (trigger?.on !== 'schedule') return;
              if (first === undefined) first = index;
              else {
                const message = `only one schedule trigger per definition (triggers[${first}] is one)`;
                ctx.addIssue(itemIssue(index, message, 'on', SCHEDULE_TWICE));
              }
            });
        }, ALWAYS),
      ),
      [],
    ),
    start: text(DEFINITION_RULES.maxNameLength),
    activities,
    /** Roles that may start it by hand for a record (POST /instances); absent: admins only. */
    startableBy: opt(startableBy),
    /**
     * What a running instance does when its record is deleted: go on (`continue`, the default: nothing recorded is
     * cut short unless the definition says so), `terminate`, or leave every activity and go to `next`.
     */
    onRecordDeleted: opt(onRecordDeleted),
    /**
     * Branches a running instance starts when an entity event of its record meets `when` (OutSystems BPT's
     * Conditional Start): each such event starts a new line at `next` while the rest of the instance goes on.
     */
    conditionalStarts: opt(conditionalStarts),
  },
  { error: 'must be an object' },
);

export type ProcessDefinition = z.output<typeof definitionDocumentSchema>;
export type Trigger = z.output<typeof triggerSchema>;
export type EntityTrigger = z.output<typeof entityTriggerSchema>;
export type ScheduleTrigger = z.output<typeof scheduleTriggerSchema>;
export type Next = z.output<typeof nextSchema>;
export type Assignee = z.output<typeof assigneeSchema>;
export type FormField = z.output<typeof formFieldSchema>;
export type Question = z.output<typeof questionSchema>;
export type Boundary = NonNullable<HumanActivity['boundary']>[number];
export type Emit = z.output<typeof emitSchema>;
export type DecisionBranch = z.output<typeof branchSchema>;
export type Activity = z.output<typeof activitySchema>;
export type ActivityType = Activity['type'];
export type HumanActivity = z.output<typeof humanActivitySchema>;
export type AutomaticActivity = z.output<typeof automaticActivitySchema>;
export type WaitActivity = z.output<typeof waitActivitySchema>;
export type DecisionActivity = z.output<typeof decisionActivitySchema>;
export type ServiceActivity = z.output<typeof serviceActivitySchema>;
export type EndActivity = z.output<typeof endActivitySchema>;
export type SubprocessActivity = z.output<typeof subprocessActivitySchema>;
export type ParallelActivity = z.output<typeof parallelActivitySchema>;
export type InclusiveActivity = z.output<typeof inclusiveActivitySchema>;
export type JoinActivity = z.output<typeof joinActivitySchema>;

export const isScheduleTrigger = (trigger: Trigger): trigger is ScheduleTrigger => trigger.on === 'schedule';

/** A published version of a definition, as the engine uses it. */
export interface DefinitionVersion {
  definition: ProcessDefinition;
  version: number;
}
