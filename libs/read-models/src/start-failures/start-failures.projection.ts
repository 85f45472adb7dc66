import type { LifelineEvent } from '@lifeline/process-domain';
import type { StoredEvent } from '@lifeline/event-store';
import { asLifelineEvent, json } from '../events';
import { preparedFor, type Projection, type Sql } from '../read-model-db';

export const START_FAILURES_SCHEMA = [
  // One row per failed start (StartFailed), resolved in place by its StartRetried.
  `CREATE TABLE IF NOT EXISTS start_failures (
    failure_id TEXT PRIMARY KEY,
    position INTEGER NOT NULL,
    entity_type TEXT NOT NULL,
    entity_id TEXT NOT NULL,
    definition_key TEXT NOT NULL,
    definition_version INTEGER NOT NULL,
    entity_event_id TEXT NOT NULL,
    stage TEXT NOT NULL,
    instance_id TEXT NOT NULL,
    code TEXT NOT NULL,
    message TEXT NOT NULL,
    failed_at TEXT NOT NULL,
    status TEXT NOT NULL,
    retry TEXT
  ) WITHOUT ROWID`,
];

export const START_FAILURES_QUERY_INDEXES = [
  'CREATE INDEX IF NOT EXISTS start_failures_by_status ON start_failures (status, position)',
  'CREATE INDEX IF NOT EXISTS start_failures_by_entity ON start_failures (entity_type, entity_id, position)',
];

const statements = preparedFor((db: Sql) => ({
  failed: db.prepare(
    `INSERT OR IGNORE INTO start_failures (failure_id, position, entity_type, entity_id, definition_key,
       definition_version, entity_event_id, stage, instance_id, code, message, failed_at, status)
     VALUES (@failureId, @position, @entityType, @entityId, @definitionKey, @definitionVersion, @entityEventId,
       @stage, @instanceId, @code, @message, @at, 'open')`,
  ),
  retried: db.prepare(`UPDATE start_failures SET status = 'retried', retry = ? WHERE failure_id = ?`),
}));

const ENTITY_PREFIX = 'entity-';

/** Failed starts of every record, open or retried: the admins' list (`GET /start-failures`). */
export const startFailuresProjection: Projection = {
  name: 'start-failures',
  prepare: statements,
  schema: START_FAILURES_SCHEMA,
  queryIndexes: START_FAILURES_QUERY_INDEXES,
  apply(db: Sql, stored: StoredEvent, decoded?: LifelineEvent): void {
    if (!stored.streamId.startsWith(ENTITY_PREFIX)) return;
    const event = decoded ?? asLifelineEvent(stored);
    if (event.type === 'StartFailed') {
      // `entity-<Type>-<id>`: entity types have no dash, so the first dash after the prefix splits.
      const rest = stored.streamId.slice(ENTITY_PREFIX.length);
      const dash = rest.indexOf('-');
      if (dash <= 0) return;
      const d = event.data;
      statements(db).failed.run({
        failureId: d.failureId,
        position: stored.position,
        entityType: rest.slice(0, dash),
        entityId: rest.slice(dash + 1),
        definitionKey: d.definitionKey,
        definitionVersion: d.definitionVersion,
        entityEventId: d.entityEventId,
        stage: d.stage,
        instanceId: d.instanceId,
        code: d.code,
        message: d.message,
        at: stored.metadata.at,
      });
    } else if (event.type === 'StartRetried') {
      const { failureId, ...retry } = event.data;
      statements(db).retried.run(json({ ...retry, at: stored.metadata.at }), failureId);
    }
  },
};
