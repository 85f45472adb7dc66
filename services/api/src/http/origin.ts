import type { Request } from 'express';
import { randomUUID } from 'node:crypto';
import { validTraceparent, type CommandOrigin, type Tracing } from '@lifeline/engine';
import type { NextFunction, Response } from 'express';

const ID = /^[A-Za-z0-9_.:-]{1,100}$/;

/** The trace context of the request's span (tracing on), set by `traceRequests`. */
const TRACE = Symbol('traceparent');
type Traced = Request & { [TRACE]?: string };

/** The W3C trace context the request's commands carry: its span's when tracing, else the valid header as sent. */
export const traceparentOf = (request: Request): string | undefined =>
  (request as Traced)[TRACE] ?? validTraceparent(request.headers.traceparent);

/** With tracing on, each request is a server span, child of the `traceparent` it came with. */
export function traceRequests(tracing: Tracing) {
  return (request: Request, response: Response, next: NextFunction): void => {
    void tracing.span(
      `HTTP ${request.method}`,
      'server',
      validTraceparent(request.headers.traceparent),
      { 'http.request.method': request.method, 'url.path': request.path },
      (traceparent) =>
        new Promise<void>((done) => {
          if (traceparent) (request as Traced)[TRACE] = traceparent;
          response.once('close', done);
          next();
        }),
    );
  };
}

/** A user's command: a fresh command id; the correlation id from `X-Correlation-Id` when sent. */
export function originOf(request: Request): CommandOrigin {
  const header = request.headers['x-correlation-id'];
  const correlationId = typeof header === 'string' && ID.test(header) ? header : randomUUID();
  const commandId = randomUUID();
  const traceparent = traceparentOf(request);
  return { commandId, correlationId, causationId: commandId, ...(traceparent ? { traceparent } : {}) };
}
