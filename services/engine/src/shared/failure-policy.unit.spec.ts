import Database from 'better-sqlite3';
import { EventStoreClosed, WrongExpectedRevision } from '@lifeline/event-store';
import { DurationOutOfRange } from '@lifeline/process-domain';
import { describeFailure, isInfrastructureError, ReactionFailure } from './failure-policy';

/** Real errors, made the way the store and the databases make them. */
function sqliteError(sql: string, setup = ''): unknown {
  const db = new Database(':memory:');
  try {
    if (setup) db.exec(setup);
    db.exec(sql);
    return undefined;
  } catch (error) {
    return error;
  } finally {
    db.close();
  }
}

describe('isInfrastructureError: retry from the checkpoint, or record the failure and go on', () => {
  it.each([
    ['a closed event store', new EventStoreClosed()],
    ['contention that outlasted the retries', new WrongExpectedRevision('instance-1', 3, 4)],
    ['SQLite busy', new Database.SqliteError('database is locked', 'SQLITE_BUSY')],
    ['SQLite I/O', new Database.SqliteError('disk I/O error', 'SQLITE_IOERR_WRITE')],
    ['SQLite full', new Database.SqliteError('database or disk is full', 'SQLITE_FULL')],
    ['an unreachable EventStoreDB', Object.assign(new Error('14 UNAVAILABLE'), { type: 'unavailable' })],
    ['a refused connection', Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })],
  ])('given %s, then it is infrastructure', (_name, error) => {
    expect(isInfrastructureError(error)).toBe(true);
  });

  it('given a closed SQLite connection, then it is infrastructure', () => {
    const db = new Database(':memory:');
    db.close();
    let error: unknown;
    try {
      db.prepare('SELECT 1');
    } catch (thrown) {
      error = thrown;
    }
    expect(isInfrastructureError(error)).toBe(true);
  });

  it.each([
    ['a domain refusal', new DurationOutOfRange('P99999999Y', '2026-11-21T10:00:00Z')],
    ['a RangeError', new RangeError('Invalid time value')],
    ['a bug', new TypeError("Cannot use 'in' operator to search for 'user' in undefined")],
    ['a row the event made invalid', sqliteError('INSERT INTO t VALUES (NULL)', 'CREATE TABLE t (a TEXT NOT NULL)')],
    ['a failure the engine names', new ReactionFailure('FEEL.BUDGET_EXCEEDED', 'too much')],
    ['a thrown string', 'boom'],
  ])('given %s, then it is poison', (_name, error) => {
    expect(error).toBeDefined();
    expect(isInfrastructureError(error)).toBe(false);
  });
});

describe('describeFailure', () => {
  it('keeps the code of a domain error or a named failure; anything else is ENGINE.UNEXPECTED with its name', () => {
    expect(describeFailure(new DurationOutOfRange('P99999999Y', '2026-11-21T10:00:00Z'))).toEqual({
      code: 'DURATION.OUT_OF_RANGE',
      message: "2026-11-21T10:00:00Z plus 'P99999999Y' is past 9999-12-31T23:59:59.999Z",
    });
    expect(describeFailure(new ReactionFailure('FEEL.BUDGET_EXCEEDED', 'too much'))).toEqual({
      code: 'FEEL.BUDGET_EXCEEDED',
      message: 'too much',
    });
    expect(describeFailure(new TypeError('x is undefined'))).toEqual({
      code: 'ENGINE.UNEXPECTED',
      message: 'TypeError: x is undefined',
    });
    expect(describeFailure('a'.repeat(3000)).message).toHaveLength(2001);
  });
});
