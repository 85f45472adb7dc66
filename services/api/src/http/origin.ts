import type { Request } from 'express';
import { randomUUID } from 'node:crypto';
import type { CommandOrigin } from '@lifeline/engine';

const ID = /^[A-Za-z0-9_.:-]{1,100}$/;

/** A user's command: a fresh command id; the correlation id from `X-Correlation-Id` when sent. */
export function originOf(request: Request): CommandOrigin {
  const header = request.headers['x-correlation-id'];
  const correlationId = typeof header === 'string' && ID.test(header) ? header : randomUUID();
  const commandId = randomUUID();
  return { commandId, correlationId, causationId: commandId };
}
