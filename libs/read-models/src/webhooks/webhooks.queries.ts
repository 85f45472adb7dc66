import type { Sql } from '../read-model-db';
import { cachedStatement } from '../statement-cache';

export interface WebhookRow {
  id: string;
  url: string;
  events: string[];
  description: string | null;
  /** The secret's first characters; the whole secret is shown once, when the webhook is created. */
  secretPrefix: string;
  status: 'active' | 'deleted';
  createdAt: string;
  createdBy: string;
  deletedAt: string | null;
}

interface WebhookRecord {
  webhook_id: string;
  url: string;
  events: string;
  description: string | null;
  secret_prefix: string;
  status: 'active' | 'deleted';
  created_at: string;
  created_by: string;
  deleted_at: string | null;
}

const toRow = (r: WebhookRecord): WebhookRow => ({
  id: r.webhook_id,
  url: r.url,
  events: JSON.parse(r.events) as string[],
  description: r.description,
  secretPrefix: r.secret_prefix,
  status: r.status,
  createdAt: r.created_at,
  createdBy: r.created_by,
  deletedAt: r.deleted_at,
});

/** Webhooks, oldest first; deleted ones only when asked for. */
export function listWebhooks(db: Sql, options: { includeDeleted?: boolean } = {}): WebhookRow[] {
  const sql = options.includeDeleted
    ? 'SELECT * FROM webhooks ORDER BY position'
    : "SELECT * FROM webhooks WHERE status = 'active' ORDER BY position";
  return (cachedStatement(db, sql).all() as WebhookRecord[]).map(toRow);
}

export function getWebhook(db: Sql, id: string): WebhookRow | undefined {
  const row = cachedStatement(db, 'SELECT * FROM webhooks WHERE webhook_id = ?').get(id) as WebhookRecord | undefined;
  return row && toRow(row);
}
