import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query, Req } from '@nestjs/common';
import { ApiOperation, ApiParam, ApiProperty, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { ArrayMaxSize, IsArray, IsIn, IsInt, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';
import type { Request } from 'express';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import {
  CreateWebhookCommand,
  DeleteWebhookCommand,
  RedeliverWebhookCommand,
  type DeliveryStatus,
} from '@lifeline/engine';
import { MAX_WEBHOOK_URL, WEBHOOK_EVENT_TYPES } from '@lifeline/process-domain';
import { CurrentCaller, RequireRoles } from '../auth/auth.guard';
import type { Caller } from '../auth/jwt';
import { originOf } from '../http/origin';
import { ApiAnswer, ApiErrors, Authenticated, WithBody } from '../http/openapi';
import { Absent, QueryInteger } from '../http/validation';
import {
  DELIVERY_ID,
  UUID,
  WebhookDeliveriesQuery,
  WebhookDeliveryQuery,
  WebhookListQuery,
  WebhookQuery,
} from './webhooks.queries';

export class CreateWebhookDto {
  @ApiProperty({ maxLength: MAX_WEBHOOK_URL, description: 'an http(s) URL without credentials' })
  @IsString()
  @MaxLength(MAX_WEBHOOK_URL)
  url!: string;
  @ApiProperty({ type: [String], enum: [...WEBHOOK_EVENT_TYPES, '*'], description: 'event types; ["*"] for all' })
  @IsArray()
  @ArrayMaxSize(WEBHOOK_EVENT_TYPES.length + 1)
  @IsString({ each: true })
  events!: string[];
  @ApiPropertyOptional({ maxLength: 200 }) @Absent() @IsString() @MaxLength(200) description?: string;
}

export class ListDeliveriesQuery {
  @ApiPropertyOptional({ enum: ['pending', 'delivered', 'dead'] })
  @IsOptional()
  @IsIn(['pending', 'delivered', 'dead'])
  status?: DeliveryStatus;
  @ApiPropertyOptional({ type: 'integer', minimum: 1, maximum: 500 })
  @IsOptional()
  @QueryInteger()
  @IsInt()
  @Min(1)
  @Max(500)
  limit?: number;
}

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
  @ApiAnswer(201, 'WebhookCreated')
  @ApiErrors(403)
  @WithBody()
  create(@Body() body: CreateWebhookDto, @CurrentCaller() caller: Caller, @Req() request: Request) {
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
  @ApiAnswer(200, 'WebhookList')
  @ApiErrors(403, 503)
  list() {
    return this.queries.execute(new WebhookListQuery());
  }

  @Get(':id')
  @RequireRoles('admin', 'auditor')
  @ApiOperation({ summary: 'One webhook' })
  @WebhookIdParam()
  @ApiAnswer(200, 'Webhook')
  @ApiErrors(403, 404, 503)
  get(@Param('id') id: string) {
    return this.queries.execute(new WebhookQuery(id));
  }

  @Delete(':id')
  @HttpCode(200)
  @RequireRoles('admin')
  @ApiOperation({ summary: 'Delete a webhook: nothing more is sent to it, its pending deliveries end' })
  @WebhookIdParam()
  @ApiAnswer(200, 'Webhook')
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
  @ApiAnswer(200, 'WebhookDeliveryList')
  @ApiErrors(400, 403, 404, 503)
  deliveries(@Param('id') id: string, @Query() query: ListDeliveriesQuery) {
    return this.queries.execute(new WebhookDeliveriesQuery(id, { status: query.status, limit: query.limit }));
  }

  @Post(':id/deliveries/:deliveryId/redeliver')
  @HttpCode(202)
  @RequireRoles('admin')
  @ApiOperation({ summary: 'Send a delivery again (a dead one, or one the receiver lost), with the same id' })
  @WebhookIdParam()
  @ApiParam({ name: 'deliveryId', schema: { type: 'string', pattern: DELIVERY_ID.source } })
  @ApiAnswer(202, 'WebhookRedelivery', 'Asked for: the delivery is pending again, with the same id')
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
