import type { Decider } from '../decider';
import { DomainError, type ValidationIssue } from '../errors';
import type { WebhookEvent } from '../events';

/**
 * The `webhook-<id>` stream: an admin's subscription of a URL to Lifeline's events, its deletion,
 * and redeliveries asked for. Kept as events, so subscriptions are audited and replicated like the
 * rest; the deliveries themselves are the webhook outbox's (services/engine/src/webhooks/webhook-deliveries.ts).
 */

/** What a webhook may subscribe to: process lifecycle, task events and `emit` messages; `*` for all. */
export const WEBHOOK_EVENT_TYPES = [
  'InstanceStarted',
  'InstanceCompleted',
  'InstanceTerminated',
  'IncidentRaised',
  'TaskCreated',
  'TaskClaimed',
  'TaskReleased',
  'TaskReassigned',
  'TaskPostponed',
  'TaskCompleted',
  'MessageEmitted',
] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

export type WebhookState =
  { status: 'none' } | { status: 'active' | 'deleted'; webhookId: string; url: string; events: string[] };

export type WebhookCommand =
  | { type: 'CreateWebhook'; webhookId: string; url: string; events: string[]; secret: string; description?: string }
  | { type: 'DeleteWebhook'; webhookId: string; by: string }
  | { type: 'RedeliverWebhookDelivery'; webhookId: string; deliveryId: string; by: string };

export class WebhookNotFound extends DomainError {
  readonly code = 'WEBHOOK.NOT_FOUND';
  readonly family = 'not-found' as const;
}
export class WebhookInvalid extends DomainError {
  readonly code = 'WEBHOOK.INVALID';
  readonly family = 'validation' as const;
  constructor(readonly issues: ValidationIssue[]) {
    super(`The webhook is invalid: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`, issues);
  }
}
export class WebhookExists extends DomainError {
  readonly code = 'WEBHOOK.EXISTS';
  readonly family = 'conflict' as const;
}

export const MAX_WEBHOOK_URL = 2000;

/** What is wrong with a subscription's URL and events ([] when nothing). */
export function webhookProblems(url: unknown, events: unknown): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  let parsed: URL | undefined;
  if (typeof url !== 'string' || url.length === 0) issues.push({ path: 'url', message: 'a URL is required' });
  else if (url.length > MAX_WEBHOOK_URL) issues.push({ path: 'url', message: `longer than ${MAX_WEBHOOK_URL}` });
  else {
    try {
      parsed = new URL(url);
    } catch {
      issues.push({ path: 'url', message: 'not a URL' });
    }
  }
  if (parsed && parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    issues.push({ path: 'url', message: 'must be http or https' });
  }
  // Credentials in a URL end up in logs and lists: the signature is what authenticates us.
  if (parsed && (parsed.username !== '' || parsed.password !== '')) {
    issues.push({ path: 'url', message: 'must not carry credentials' });
  }
  if (!Array.isArray(events) || events.length === 0) {
    issues.push({ path: 'events', message: 'a non-empty list of event types, or ["*"]' });
  } else {
    const known = new Set<string>([...WEBHOOK_EVENT_TYPES, '*']);
    events.forEach((type, i) => {
      if (typeof type !== 'string' || !known.has(type)) {
        issues.push({ path: `events[${i}]`, message: `one of ${[...known].join(', ')}` });
      }
    });
  }
  return issues;
}

/** Whether a subscription to `events` receives an event of this type. */
export const webhookWants = (events: readonly string[], type: string): boolean =>
  events.includes('*') ? (WEBHOOK_EVENT_TYPES as readonly string[]).includes(type) : events.includes(type);

export const webhookDecider: Decider<WebhookState, WebhookCommand, WebhookEvent, void> = {
  initialState: () => ({ status: 'none' }),
  evolve: (state, event) => evolveWebhook(state, event),
  decide: (state, command) => decideWebhook(state, command),
};

export function evolveWebhook(state: WebhookState, event: WebhookEvent): WebhookState {
  switch (event.type) {
    case 'WebhookCreated':
      return { status: 'active', webhookId: event.data.webhookId, url: event.data.url, events: event.data.events };
    case 'WebhookDeleted':
      return state.status === 'none' ? state : { ...state, status: 'deleted' };
    case 'WebhookRedeliveryRequested':
      return state;
    default: {
      const unknown: never = event;
      throw new Error(`Unknown webhook event ${JSON.stringify(unknown)}`);
    }
  }
}

export function decideWebhook(state: WebhookState, command: WebhookCommand): WebhookEvent[] {
  switch (command.type) {
    case 'CreateWebhook': {
      if (state.status !== 'none') throw new WebhookExists(`Webhook ${command.webhookId} exists`);
      const issues = webhookProblems(command.url, command.events);
      if (issues.length > 0) throw new WebhookInvalid(issues);
      const { webhookId, url, events, secret, description } = command;
      return [
        {
          type: 'WebhookCreated',
          data: { webhookId, url, events: [...new Set(events)], secret, ...(description ? { description } : {}) },
        },
      ];
    }
    case 'DeleteWebhook':
      if (state.status !== 'active') throw new WebhookNotFound('No such webhook');
      return [{ type: 'WebhookDeleted', data: { webhookId: state.webhookId, by: command.by } }];
    case 'RedeliverWebhookDelivery':
      if (state.status !== 'active') throw new WebhookNotFound('No such webhook');
      return [
        {
          type: 'WebhookRedeliveryRequested',
          data: { webhookId: state.webhookId, deliveryId: command.deliveryId, by: command.by },
        },
      ];
    default: {
      const unknown: never = command;
      throw new Error(`Unknown webhook command ${JSON.stringify(unknown)}`);
    }
  }
}
