import { Injectable } from '@nestjs/common';
import type { z } from 'zod';
import { Query, QueryHandler, type IQueryHandler } from '@nestjs/cqrs';
import { getWebhook, listWebhooks, type WebhookRow } from '@lifeline/read-models';
import { EngineRuntime, type DeliveryStatus, type WebhookDelivery } from '@lifeline/engine';
import { NotFound } from '../http/api-errors';
import { ReadSide } from '../http/read-side';
import type { WEBHOOK_LIST, WEBHOOK_DELIVERY_LIST } from '../http/answers';

export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
export const DELIVERY_ID = /^msg_[0-9a-f]{32}$/;

/** Webhooks, oldest first. */
export class WebhookListQuery extends Query<z.output<typeof WEBHOOK_LIST>> {}

/** One webhook (404 WEBHOOK.NOT_FOUND). */
export class WebhookQuery extends Query<WebhookRow> {
  constructor(readonly webhookId: string) {
    super();
  }
}

/** A webhook's deliveries, newest first. */
export class WebhookDeliveriesQuery extends Query<z.output<typeof WEBHOOK_DELIVERY_LIST>> {
  constructor(
    readonly webhookId: string,
    readonly filter: { status?: DeliveryStatus; limit?: number },
  ) {
    super();
  }
}

/** One delivery of a webhook (404 WEBHOOK.NOT_FOUND, WEBHOOK.DELIVERY_NOT_FOUND). */
export class WebhookDeliveryQuery extends Query<WebhookDelivery> {
  constructor(
    readonly webhookId: string,
    readonly deliveryId: string,
  ) {
    super();
  }
}

function webhook(read: ReadSide, id: string): WebhookRow {
  read.served(['webhooks']);
  const found = UUID.test(id) ? getWebhook(read.db, id) : undefined;
  if (!found) throw new NotFound('WEBHOOK.NOT_FOUND', 'No such webhook');
  return found;
}

@Injectable()
@QueryHandler(WebhookListQuery)
export class WebhookListHandler implements IQueryHandler<WebhookListQuery> {
  constructor(private readonly read: ReadSide) {}
  async execute() {
    this.read.served(['webhooks']);
    return { position: this.read.models.position(), items: listWebhooks(this.read.db) };
  }
}

@Injectable()
@QueryHandler(WebhookQuery)
export class WebhookHandler implements IQueryHandler<WebhookQuery, WebhookRow> {
  constructor(private readonly read: ReadSide) {}
  async execute({ webhookId }: WebhookQuery): Promise<WebhookRow> {
    return webhook(this.read, webhookId);
  }
}

@Injectable()
@QueryHandler(WebhookDeliveriesQuery)
export class WebhookDeliveriesHandler implements IQueryHandler<WebhookDeliveriesQuery> {
  constructor(
    private readonly read: ReadSide,
    private readonly engine: EngineRuntime,
  ) {}
  async execute({ webhookId, filter }: WebhookDeliveriesQuery) {
    webhook(this.read, webhookId);
    return { items: this.engine.webhookDeliveries.list(webhookId, filter) };
  }
}

@Injectable()
@QueryHandler(WebhookDeliveryQuery)
export class WebhookDeliveryHandler implements IQueryHandler<WebhookDeliveryQuery, WebhookDelivery> {
  constructor(
    private readonly read: ReadSide,
    private readonly engine: EngineRuntime,
  ) {}
  async execute({ webhookId, deliveryId }: WebhookDeliveryQuery): Promise<WebhookDelivery> {
    const found = webhook(this.read, webhookId);
    const delivery = DELIVERY_ID.test(deliveryId) ? this.engine.webhookDeliveries.get(found.id, deliveryId) : undefined;
    if (!delivery) throw new NotFound('WEBHOOK.DELIVERY_NOT_FOUND', 'No such delivery of this webhook');
    return delivery;
  }
}
