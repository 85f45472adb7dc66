import { isIsoDateTimeWithZone } from '../entity/validate-envelope';
import { DurationOutOfRange, InvalidDuration, InvalidInstant } from './definition-errors';

/** An ISO-8601 duration, one field per designator; only `seconds` may have a fraction. */
export interface Duration {
  years: number;
  months: number;
  weeks: number;
  days: number;
  hours: number;
  minutes: number;
  seconds: number;
}

const DURATION =
  /^P(?:(\d{1,9})Y)?(?:(\d{1,9})M)?(?:(\d{1,9})W)?(?:(\d{1,9})D)?(?:T(?:(\d{1,9})H)?(?:(\d{1,9})M)?(?:(\d{1,9}(?:[.,]\d{1,9})?)S)?)?$/;
const MS_PER_SECOND = 1000;
const MS_PER_MINUTE = 60 * MS_PER_SECOND;
const MS_PER_HOUR = 60 * MS_PER_MINUTE;
const MS_PER_DAY = 24 * MS_PER_HOUR;
/** Nominal lengths for the publish-time bound only: a year of 365.25 days, a month of a twelfth of that. */
const MS_PER_NOMINAL_YEAR = 365.25 * MS_PER_DAY;
const MS_PER_NOMINAL_MONTH = MS_PER_NOMINAL_YEAR / 12;

/**
 * The longest duration a definition may hold (dueIn, delay, timeout): 100 years, so every due date
 * stays a plain ISO instant (years 0000-9999) and far inside what a Date can hold.
 */
export const MAX_DURATION = { text: 'P100Y', years: 100, ms: 100 * MS_PER_NOMINAL_YEAR } as const;
/** The last instant addDuration may produce: later ones do not print as a four-digit-year ISO instant. */
const LATEST_INSTANT_MS = Date.parse('9999-12-31T23:59:59.999Z');

/** Durations come from definitions, so few texts recur: their parses are kept (frozen, as they are shared). */
const parsed = new Map<string, Duration | undefined>();

export function parseDuration(text: string): Duration | undefined {
  if (typeof text !== 'string') return undefined;
  if (parsed.has(text)) return parsed.get(text);
  const duration = parseDurationText(text);
  // A valid duration is short: longer texts are answered without being kept.
  if (text.length > 100) return duration;
  if (parsed.size >= 1_000) parsed.clear();
  parsed.set(text, duration && Object.freeze(duration));
  return duration;
}

function parseDurationText(text: string): Duration | undefined {
  const m = DURATION.exec(text);
  // "P" alone, or a "T" with no time part after it, names no amount of time.
  if (!m || text === 'P' || text.endsWith('T')) return undefined;
  const n = (part: string | undefined): number => (part === undefined ? 0 : Number(part.replace(',', '.')));
  return {
    years: n(m[1]),
    months: n(m[2]),
    weeks: n(m[3]),
    days: n(m[4]),
    hours: n(m[5]),
    minutes: n(m[6]),
    seconds: n(m[7]),
  };
}

export function isValidDuration(text: string): boolean {
  return parseDuration(text) !== undefined;
}

/** The duration's nominal length in milliseconds (years 365.25 days, months 30.4375 days); for bounds, not dates. */
export function nominalDurationMs(duration: Duration): number {
  return (
    duration.years * MS_PER_NOMINAL_YEAR +
    duration.months * MS_PER_NOMINAL_MONTH +
    (duration.weeks * 7 + duration.days) * MS_PER_DAY +
    duration.hours * MS_PER_HOUR +
    duration.minutes * MS_PER_MINUTE +
    duration.seconds * MS_PER_SECOND
  );
}

/** True when the duration is at most MAX_DURATION (P100Y = P1200M = P36525D = PT876600H). */
export function isWithinMaxDuration(duration: Duration): boolean {
  return nominalDurationMs(duration) <= MAX_DURATION.ms;
}

/**
 * The instant `duration` after `instantIso`, in UTC. Years and months move the calendar month and keep
 * the day, clamped to the month's last day (Jan 31 + P1M = Feb 28); weeks and days are calendar days;
 * the time part is exact. Returns e.g. "2026-11-21T10:00:00.000Z". Total: it returns an instant or
 * throws a DomainError (DURATION.INVALID, INSTANT.INVALID, DURATION.OUT_OF_RANGE), never a RangeError.
 */
export function addDuration(instantIso: string, duration: string): string {
  // The starts of one moment ask for the same instant and duration (a task's dueIn): computed once.
  if (lastAdded && instantIso === lastAdded.instant && duration === lastAdded.duration) return lastAdded.result;
  const result = addDurationNow(instantIso, duration);
  lastAdded = { instant: instantIso, duration, result };
  return result;
}

let lastAdded: { instant: string; duration: string; result: string } | undefined;

function addDurationNow(instantIso: string, duration: string): string {
  const parsed = parseDuration(duration);
  if (!parsed) throw new InvalidDuration(duration);
  if (typeof instantIso !== 'string' || !isIsoDateTimeWithZone(instantIso)) throw new InvalidInstant(instantIso);
  const start = new Date(Date.parse(instantIso));

  const monthIndex = start.getUTCMonth() + parsed.months + 12 * parsed.years;
  const year = start.getUTCFullYear() + Math.floor(monthIndex / 12);
  const month = monthIndex % 12;
  const day = Math.min(start.getUTCDate(), daysInMonth(year, month));
  const shifted = new Date(start.getTime());
  // setUTCFullYear, not Date.UTC: Date.UTC maps years 0–99 to 1900–1999.
  shifted.setUTCFullYear(year, month, day);

  const exact =
    (parsed.weeks * 7 + parsed.days) * MS_PER_DAY +
    parsed.hours * MS_PER_HOUR +
    parsed.minutes * MS_PER_MINUTE +
    Math.round(parsed.seconds * MS_PER_SECOND);
  const result = shifted.getTime() + exact;
  // NaN when the calendar shift left the Date range; beyond 9999 the ISO text would take a six-digit year.
  if (!Number.isFinite(result) || result > LATEST_INSTANT_MS) throw new DurationOutOfRange(duration, instantIso);
  return new Date(result).toISOString();
}

function daysInMonth(year: number, monthIndex: number): number {
  const firstOfNext = new Date(0);
  firstOfNext.setUTCFullYear(year, monthIndex + 1, 0);
  return firstOfNext.getUTCDate();
}
