import type { StoreTx } from '@lifeline/event-store';
import { decodeWebhookEvent, streams, webhookDecider, type WebhookCommand } from '@lifeline/process-domain';
import { handleCommand } from '../pipeline/handle';
import type { Clock } from '../shared/clock';
import { newUuid } from '../shared/ids';
import type { CommandOrigin } from '../shared/metadata';
import { newWebhookSecret } from './standard-webhooks';

export interface CreatedWebhook {
  id: string;
  url: string;
  events: string[];
  description?: string;
  /** Shown once: deliveries are signed with it. */
  secret: string;
  position: number;
}

/** Subscribes, deletes and redelivers on `webhook-<id>` streams. */
export class WebhookCommands {
  constructor(private readonly clock: Clock) {}

  async create(
    tx: StoreTx,
    request: { url: string; events: string[]; description?: string },
    actor: string,
    origin: CommandOrigin,
  ): Promise<CreatedWebhook> {
    const webhookId = newUuid();
    const secret = newWebhookSecret();
    const outcome = await this.run(
      tx,
      webhookId,
      { type: 'CreateWebhook', webhookId, secret, ...request },
      actor,
      origin,
    );
    const created = outcome.events[0];
    if (created?.type !== 'WebhookCreated') throw new Error('unreachable: CreateWebhook records WebhookCreated');
    const { url, events, description } = created.data;
    return { id: webhookId, url, events, ...(description ? { description } : {}), secret, position: outcome.position };
  }

  async execute(tx: StoreTx, command: WebhookCommand, actor: string, origin: CommandOrigin): Promise<number> {
    return (await this.run(tx, command.webhookId, command, actor, origin)).position;
  }

  private run(tx: StoreTx, webhookId: string, command: WebhookCommand, actor: string, origin: CommandOrigin) {
    return handleCommand(tx, {
      streamId: streams.webhook(webhookId),
      decider: webhookDecider,
      command,
      context: () => undefined,
      decode: decodeWebhookEvent,
      origin,
      actor,
      at: this.clock.nowIso(),
    });
  }
}
