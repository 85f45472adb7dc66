import type { Statement } from 'better-sqlite3';
import type { Sql } from './read-model-db';

const cache = new WeakMap<Sql, Map<string, Statement>>();

/** Queries are built from a few shapes; each shape is prepared once per connection. */
export function cachedStatement(db: Sql, text: string): Statement {
  let byText = cache.get(db);
  if (!byText) {
    byText = new Map();
    cache.set(db, byText);
  }
  let statement = byText.get(text);
  if (!statement) {
    statement = db.prepare(text);
    byText.set(text, statement);
  }
  return statement;
}
