import { Cron } from 'croner';

/**
 * The ticks of a schedule trigger, computed by croner (no cron parsing of our own). Ticks are read
 * in the trigger's IANA time zone; croner treats a fixed time in a DST gap as the first valid time
 * after it, and a time that occurs twice (clocks going back) as its first occurrence only.
 */

/** Longer cron text is refused before it is parsed: no expression people write needs more. */
export const MAX_CRON_LENGTH = 120;
export const DEFAULT_TIME_ZONE = 'UTC';

// An IANA name (Area/Location, UTC, Etc/GMT+5): no offsets such as +01:00, no odd characters.
const TIME_ZONE_NAME = /^[A-Za-z][A-Za-z0-9_+\-/]{0,63}$/;
// Printable ASCII only: a cron expression has no use for anything else.
const CRON_TEXT = /^[\x20-\x7e]+$/;
// A pattern that matches no date at all (30 February) is searched for once, from this instant, when validated.
const NEVER_PROBE_FROM = new Date('2000-01-01T00:00:00.000Z');

export type ScheduleProblemCode =
  'DEFINITION.SCHEDULE_CRON_INVALID' | 'DEFINITION.SCHEDULE_CRON_NEVER_FIRES' | 'DEFINITION.SCHEDULE_TIME_ZONE_UNKNOWN';

export interface ScheduleProblem {
  code: ScheduleProblemCode;
  path: 'cron' | 'timeZone';
  message: string;
}

/** Whether `timeZone` is an IANA time zone this runtime knows. */
export function timeZoneProblem(timeZone: string): ScheduleProblem | undefined {
  const unknown: ScheduleProblem = {
    code: 'DEFINITION.SCHEDULE_TIME_ZONE_UNKNOWN',
    path: 'timeZone',
    message: `'${timeZone.slice(0, 64)}' is not an IANA time zone such as Europe/Amsterdam or UTC`,
  };
  if (!TIME_ZONE_NAME.test(timeZone)) return unknown;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone });
    return undefined;
  } catch {
    return unknown;
  }
}

/** What is wrong with a schedule: the time zone, then the cron (read in UTC when the zone is unknown). */
export function scheduleProblems(cron: string, timeZone: string): ScheduleProblem[] {
  const zone = timeZoneProblem(timeZone);
  const problems = zone ? [zone] : [];
  if (cron.length > MAX_CRON_LENGTH || !CRON_TEXT.test(cron)) {
    problems.push({
      code: 'DEFINITION.SCHEDULE_CRON_INVALID',
      path: 'cron',
      message: `must be a cron expression of printable characters, at most ${MAX_CRON_LENGTH}`,
    });
    return problems;
  }
  let job: Cron;
  try {
    job = cronOf({ cron, timeZone: zone ? DEFAULT_TIME_ZONE : timeZone });
  } catch (error) {
    problems.push({
      code: 'DEFINITION.SCHEDULE_CRON_INVALID',
      path: 'cron',
      message: `'${cron}' is not a cron expression (5 fields, or 6 with seconds first): ${(error as Error).message}`,
    });
    return problems;
  }
  if (job.nextRun(NEVER_PROBE_FROM) === null) {
    problems.push({
      code: 'DEFINITION.SCHEDULE_CRON_NEVER_FIRES',
      path: 'cron',
      message: `'${cron}' matches no date (such as 30 February): it would never start anything`,
    });
  }
  return problems;
}

/** The first tick strictly after `at`; undefined when there is none (or the expression was stored unchecked and is bad). */
export function nextTickAfter(trigger: { cron: string; timeZone: string }, at: string): string | undefined {
  return safely(() => cronOf(trigger).nextRun(new Date(at))?.toISOString());
}

/** The latest tick at or before `at` (one search back, however many ticks lie between). */
export function latestTickAtOrBefore(trigger: { cron: string; timeZone: string }, at: string): string | undefined {
  // previousRuns looks strictly before its reference; ticks are whole seconds, so 1 ms later includes `at`.
  return safely(() =>
    cronOf(trigger)
      .previousRuns(1, new Date(Date.parse(at) + 1))[0]
      ?.toISOString(),
  );
}

/** A definition stored before its schedule was validated must not stop the engine: it never ticks. */
function safely(compute: () => string | undefined): string | undefined {
  try {
    return compute();
  } catch {
    return undefined;
  }
}

/** Parsed jobs by expression and zone: the engine asks for the same few on every timer tick. */
const parsed = new Map<string, Cron>();
const MAX_PARSED = 256;

function cronOf({ cron, timeZone }: { cron: string; timeZone: string }): Cron {
  const key = `${timeZone}\u0000${cron}`;
  const known = parsed.get(key);
  if (known) return known;
  // No callback and paused: croner starts no timer; it only computes dates.
  const job = new Cron(cron, { timezone: timeZone, mode: '5-or-6-parts', paused: true });
  if (parsed.size >= MAX_PARSED) parsed.delete(parsed.keys().next().value as string);
  parsed.set(key, job);
  return job;
}
