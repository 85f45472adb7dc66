import pg from 'pg';

/** A PostgreSQL URL with a session setting added (`options=-c name=value`, as libpq and node-postgres read it). */
export function withSetting(url: string, name: string, value: string): string {
  const u = new URL(url);
  const options = [u.searchParams.get('options'), `-c ${name}=${value}`].filter(Boolean).join(' ');
  u.searchParams.set('options', options);
  return u.toString();
}

let roundTrips = 0;
let counting = false;

/**
 * Counts every query this process sends to PostgreSQL from now on (one `query` call is one round trip, however many
 * statements its text holds): the write rate of one log is bounded by the round trips a unit makes while it holds the
 * log's lock (docs/scaling.md). Wraps node-postgres's `Client.prototype.query` once, in the bench process only.
 */
export function roundTripCounter(): () => number {
  if (!counting) {
    counting = true;
    const query = pg.Client.prototype.query as (...args: unknown[]) => unknown;
    pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
      roundTrips++;
      return query.apply(this, args);
    } as typeof pg.Client.prototype.query;
  }
  const from = roundTrips;
  return () => roundTrips - from;
}
