import { isIsoDateTimeWithZone } from '../entity/validate-envelope';
import { InvalidDuration, InvalidInstant } from './definition-errors';

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

export function parseDuration(text: string): Duration | undefined {
  if (typeof text !== 'string') return undefined;
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

/**
 * The instant `duration` after `instantIso`, in UTC. Years and months move the calendar month and keep
 * the day, clamped to the month's last day (Jan 31 + P1M = Feb 28); weeks and days are calendar days;
 * the time part is exact. Returns e.g. "2026-11-21T10:00:00.000Z".
 */
export function addDuration(instantIso: string, duration: string): string {
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
  const result = new Date(shifted.getTime() + exact);
  if (Number.isNaN(result.getTime())) throw new InvalidDuration(duration);
  return result.toISOString();
}

function daysInMonth(year: number, monthIndex: number): number {
  const firstOfNext = new Date(0);
  firstOfNext.setUTCFullYear(year, monthIndex + 1, 0);
  return firstOfNext.getUTCDate();
}
