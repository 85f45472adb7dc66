import { DomainError } from '@lifeline/process-domain';
import { EventStoreClosed, WrongExpectedRevision } from '@lifeline/event-store';

/**
 * The rule (docs/decisions/0004-failed-reactions.md): an error that says something about the store
 * or a database (busy, locked, I/O, closed, unreachable, contention that outlasted the retries) is
 * infrastructure: the process manager stops and resumes from its checkpoint with backoff, because
 * the same event will succeed once the store is back. Anything else is poison for that one event
 * (a domain refusal, a RangeError, a bug): it is recorded as a failure on its record or instance and
 * processing goes on. A poison failure that cannot itself be recorded becomes infrastructure.
 */
export function isInfrastructureError(error: unknown): boolean {
  if (error instanceof EventStoreClosed || error instanceof WrongExpectedRevision) return true;
  if (typeof error !== 'object' || error === null) return false;
  const { code, type, message } = error as { code?: unknown; type?: unknown; message?: unknown };
  // better-sqlite3: SQLITE_BUSY, _LOCKED, _IOERR_*, _FULL, _CANTOPEN, _READONLY, ... but not a row the event made invalid.
  if (typeof code === 'string' && code.startsWith('SQLITE_')) return !SQLITE_POISON.some((p) => code.startsWith(p));
  // @eventstore/db-client command errors carry a `type`.
  if (typeof type === 'string' && ESDB_TRANSIENT.has(type)) return true;
  // better-sqlite3 on a closed connection; Node's network errors.
  if (typeof message === 'string' && message.includes('database connection is not open')) return true;
  return typeof code === 'string' && NODE_NETWORK.has(code);
}

const SQLITE_POISON = ['SQLITE_CONSTRAINT', 'SQLITE_MISMATCH', 'SQLITE_TOOBIG', 'SQLITE_RANGE'];
const ESDB_TRANSIENT = new Set(['timeout', 'deadline-exceeded', 'unavailable', 'cancelled', 'not-leader', 'unknown']);
const NODE_NETWORK = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENOTFOUND']);

/** A poison failure the engine itself names (a trigger condition that failed, an entity event not found). */
export class ReactionFailure extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ReactionFailure';
  }
}

/** Code and message of a failure as recorded: a domain error keeps its code; anything else is ENGINE.UNEXPECTED. */
export function describeFailure(error: unknown): { code: string; message: string } {
  if (error instanceof DomainError || error instanceof ReactionFailure) {
    return { code: error.code, message: truncate(error.message) };
  }
  if (error instanceof Error)
    return { code: 'ENGINE.UNEXPECTED', message: truncate(`${error.name}: ${error.message}`) };
  return { code: 'ENGINE.UNEXPECTED', message: truncate(String(error)) };
}

const truncate = (text: string): string => (text.length > 2000 ? `${text.slice(0, 2000)}…` : text);
