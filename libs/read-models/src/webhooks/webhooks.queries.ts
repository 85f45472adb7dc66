import type { z } from 'zod';
import type { WEBHOOK_ROW } from '../results';
import type { Sql } from '../read-model-db';
import { cachedStatement } from '../statement-cache';

export type WebhookRow = z.infer<typeof WEBHOOK_ROW>;

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
