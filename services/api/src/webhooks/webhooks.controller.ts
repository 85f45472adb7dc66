import { Controller, Delete, Get, HttpCode, Param, Post, Req } from '@nestjs/common';
import { ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import type { Request } from 'express';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import { CreateWebhookCommand, DeleteWebhookCommand, RedeliverWebhookCommand } from '@lifeline/engine';
import { MAX_WEBHOOK_URL, WEBHOOK_EVENT_TYPES } from '@lifeline/process-domain';
import { CurrentCaller, RequireRoles } from '../auth/auth.guard';
import type { Caller } from '../auth/jwt';
import { originOf } from '../http/origin';
import { ApiAnswer, ApiErrors, Authenticated, named, WithBody } from '../http/openapi';
import { WEBHOOK, WEBHOOK_CREATED, WEBHOOK_DELIVERY_LIST, WEBHOOK_LIST, WEBHOOK_REDELIVERY } from '../http/answers';
import { absent, queryInteger, ValidBody, ValidQuery } from '../http/validation';
import {
  DELIVERY_ID,
  UUID,
  WebhookDeliveriesQuery,
  WebhookDeliveryQuery,
  WebhookListQuery,
  WebhookQuery,
} from './webhooks.queries';

const CREATE_WEBHOOK = named(
  'CreateWebhookDto',
  z.strictObject({
    url: z.string().max(MAX_WEBHOOK_URL).meta({ description: 'an http(s) URL without credentials' }),
    // Which event types exist is the engine's check (WEBHOOK.INVALID_EVENTS): the document names them.
    events: z
      .array(z.string().meta({ enum: [...WEBHOOK_EVENT_TYPES, '*'] }))
      .max(WEBHOOK_EVENT_TYPES.length + 1)
      .meta({ description: 'event types; ["*"] for all' }),
    description: absent(z.string().max(200)),
  }),
);

const LIST_DELIVERIES_QUERY = z.strictObject({
  status: z.enum(['pending', 'delivered', 'dead']).optional(),
  limit: queryInteger(1, 500).optional(),
});

const WebhookIdParam = () =>
  ApiParam({ name: 'id', description: 'the webhook id (UUID)', schema: { type: 'string', pattern: UUID.source } });

/**
 * Webhooks: admins subscribe URLs to process lifecycle, task and `emit` events. Deliveries are signed
 * per Standard Webhooks, retried with backoff until delivered or dead, and listed with their status.
 */
@ApiTags('webhooks')
@Authenticated()
@Controller('webhooks')
export class WebhooksController {
  constructor(
    private readonly commands: CommandBus,
    private readonly queries: QueryBus,
  ) {}

  @Post()
  @HttpCode(201)
  @RequireRoles('admin')
  @ApiOperation({ summary: 'Subscribe a URL to events; the answer shows its signing secret, once' })
  @ApiAnswer(201, WEBHOOK_CREATED)
  @ApiErrors(403)
  @WithBody()
  create(
    @ValidBody(CREATE_WEBHOOK) body: z.output<typeof CREATE_WEBHOOK>,
    @CurrentCaller() caller: Caller,
    @Req() request: Request,
  ) {
    return this.commands.execute(
      new CreateWebhookCommand(
        { url: body.url, events: body.events, ...(body.description ? { description: body.description } : {}) },
        caller.id,
        originOf(request),
      ),
    );
  }

  @Get()
  @RequireRoles('admin', 'auditor')
  @ApiOperation({ summary: 'Webhooks, oldest first (secrets are never shown again, only their first characters)' })
  @ApiAnswer(200, WEBHOOK_LIST)
  @ApiErrors(403, 503)
  list() {
    return this.queries.execute(new WebhookListQuery());
  }

  @Get(':id')
  @RequireRoles('admin', 'auditor')
  @ApiOperation({ summary: 'One webhook' })
  @WebhookIdParam()
  @ApiAnswer(200, WEBHOOK)
  @ApiErrors(403, 404, 503)
  get(@Param('id') id: string) {
    return this.queries.execute(new WebhookQuery(id));
  }

  @Delete(':id')
  @HttpCode(200)
  @RequireRoles('admin')
  @ApiOperation({ summary: 'Delete a webhook: nothing more is sent to it, its pending deliveries end' })
  @WebhookIdParam()
  @ApiAnswer(200, WEBHOOK)
  @ApiErrors(403, 404, 503)
  async delete(@Param('id') id: string, @CurrentCaller() caller: Caller, @Req() request: Request) {
    await this.queries.execute(new WebhookQuery(id));
    await this.commands.execute(new DeleteWebhookCommand(id, caller.id, originOf(request)));
    return this.queries.execute(new WebhookQuery(id));
  }

  @Get(':id/deliveries')
  @RequireRoles('admin', 'auditor')
  @ApiOperation({ summary: "A webhook's deliveries, newest first: status, attempts, the last answer or error" })
  @WebhookIdParam()
  @ApiAnswer(200, WEBHOOK_DELIVERY_LIST)
  @ApiErrors(400, 403, 404, 503)
  deliveries(
    @Param('id') id: string,
    @ValidQuery(LIST_DELIVERIES_QUERY) query: z.output<typeof LIST_DELIVERIES_QUERY>,
  ) {
    return this.queries.execute(new WebhookDeliveriesQuery(id, { status: query.status, limit: query.limit }));
  }

  @Post(':id/deliveries/:deliveryId/redeliver')
  @HttpCode(202)
  @RequireRoles('admin')
  @ApiOperation({ summary: 'Send a delivery again (a dead one, or one the receiver lost), with the same id' })
  @WebhookIdParam()
  @ApiParam({ name: 'deliveryId', schema: { type: 'string', pattern: DELIVERY_ID.source } })
  @ApiAnswer(202, WEBHOOK_REDELIVERY, 'Asked for: the delivery is pending again, with the same id')
  @ApiErrors(403, 404, 503)
  async redeliver(
    @Param('id') id: string,
    @Param('deliveryId') deliveryId: string,
    @CurrentCaller() caller: Caller,
    @Req() request: Request,
  ) {
    await this.queries.execute(new WebhookDeliveryQuery(id, deliveryId));
    const position = await this.commands.execute(
      new RedeliverWebhookCommand(id, deliveryId, caller.id, originOf(request)),
    );
    return { id: deliveryId, webhookId: id, position };
  }
}
