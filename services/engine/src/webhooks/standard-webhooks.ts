import { createHash, createHmac, randomBytes } from 'node:crypto';

/**
 * The Standard Webhooks convention (standardwebhooks.com): each delivery carries `webhook-id` (the same
 * on every retry), `webhook-timestamp` (seconds) and `webhook-signature` = `v1,` + base64 of the
 * HMAC-SHA256 of `id.timestamp.body`, keyed with the base64 part of the subscription's `whsec_` secret.
 */
export const WEBHOOK_SECRET_PREFIX = 'whsec_';

/** A new subscription secret: 24 random bytes, base64, behind `whsec_`. */
export const newWebhookSecret = (): string => WEBHOOK_SECRET_PREFIX + randomBytes(24).toString('base64');

/** The `webhook-signature` header of one attempt. */
export function webhookSignature(secret: string, id: string, timestampSeconds: number, body: string): string {
  const key = Buffer.from(secret.slice(WEBHOOK_SECRET_PREFIX.length), 'base64');
  return `v1,${createHmac('sha256', key).update(`${id}.${timestampSeconds}.${body}`).digest('base64')}`;
}

/** One message per event and subscription, the same id whenever the log is relayed again. */
export const webhookMessageId = (webhookId: string, eventId: string): string =>
  `msg_${createHash('sha256').update(`${webhookId}:${eventId}`).digest('hex').slice(0, 32)}`;

/** The headers of one attempt (the trace context goes along when the event was recorded in one). */
export function webhookHeaders(
  secret: string,
  id: string,
  timestampSeconds: number,
  body: string,
  traceparent?: string,
): Record<string, string> {
  return {
    'content-type': 'application/json',
    'webhook-id': id,
    'webhook-timestamp': String(timestampSeconds),
    'webhook-signature': webhookSignature(secret, id, timestampSeconds, body),
    ...(traceparent ? { traceparent } : {}),
  };
}
