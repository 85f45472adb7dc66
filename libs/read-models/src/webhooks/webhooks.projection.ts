import type { LifelineEvent } from '@lifeline/process-domain';
import type { StoredEvent } from '@lifeline/event-store';
import { asLifelineEvent, json } from '../events';
import { preparedFor, type Projection, type Sql } from '../read-model-db';

export const WEBHOOKS_SCHEMA = [
  // One row per webhook subscription; the secret itself is never kept here, only its first characters.
  `CREATE TABLE IF NOT EXISTS webhooks (
    webhook_id TEXT PRIMARY KEY,
    position INTEGER NOT NULL,
    url TEXT NOT NULL,
    events TEXT NOT NULL,
    description TEXT,
    secret_prefix TEXT NOT NULL,
    created_at TEXT NOT NULL,
    created_by TEXT NOT NULL,
    status TEXT NOT NULL,
    deleted_at TEXT,
    deleted_by TEXT
  ) WITHOUT ROWID`,
];

/** `whsec_` and four characters: enough to tell secrets apart, nothing to sign with. */
export const secretPrefix = (secret: string): string => `${secret.slice(0, 10)}…`;

const statements = preparedFor((db: Sql) => ({
  created: db.prepare(
    `INSERT OR IGNORE INTO webhooks (webhook_id, position, url, events, description, secret_prefix, created_at,
       created_by, status)
     VALUES (@webhookId, @position, @url, @events, @description, @secretPrefix, @at, @by, 'active')`,
  ),
  deleted: db.prepare(`UPDATE webhooks SET status = 'deleted', deleted_at = ?, deleted_by = ? WHERE webhook_id = ?`),
}));

/** Webhook subscriptions, active or deleted: the admins' list (`GET /webhooks`). */
export const webhooksProjection: Projection = {
  name: 'webhooks',
  prepare: statements,
  schema: WEBHOOKS_SCHEMA,
  tables: ['webhooks'],
  apply(db: Sql, stored: StoredEvent, decoded?: LifelineEvent): void {
    if (!stored.streamId.startsWith('webhook-')) return;
    const event = decoded ?? asLifelineEvent(stored);
    if (event.type === 'WebhookCreated') {
      const d = event.data;
      statements(db).created.run({
        webhookId: d.webhookId,
        position: stored.position,
        url: d.url,
        events: json(d.events),
        description: d.description ?? null,
        secretPrefix: secretPrefix(d.secret),
        at: stored.metadata.at,
        by: stored.metadata.actor,
      });
    } else if (event.type === 'WebhookDeleted') {
      statements(db).deleted.run(stored.metadata.at, event.data.by, event.data.webhookId);
    }
  },
};
