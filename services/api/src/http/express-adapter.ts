import { StreamableFile } from '@nestjs/common';
import { ExpressAdapter } from '@nestjs/platform-express';
import type { Request, Response } from 'express';

/**
 * Nest's Express adapter, answering a controller's JSON result with the bytes and headers `res.json`
 * writes (`Content-Type: application/json; charset=utf-8`, `Content-Length`) without `res.json`'s
 * per-request detours: settings lookups, re-parsing the Content-Type it just set, the freshness check.
 * Anything those detours could change is left to Express: a Content-Type already set, an ETag, JSON
 * settings, conditional GETs (`If-None-Match: *` answers 304), 204/205/304, non-object bodies.
 */
export class LifelineExpressAdapter extends ExpressAdapter {
  override reply(response: Response, body: unknown, statusCode?: number): unknown {
    if (!plainJsonAnswer(response, body, statusCode)) return super.reply(response, body, statusCode);
    const text = JSON.stringify(body) as string | undefined;
    // An object whose toJSON answers undefined: Express sends no body for it.
    if (text === undefined) return super.reply(response, body, statusCode);
    if (statusCode) response.status(statusCode);
    response.setHeader('Content-Type', 'application/json; charset=utf-8');
    response.setHeader('Content-Length', String(Buffer.byteLength(text, 'utf8')));
    if (response.req.method === 'HEAD') response.end();
    else response.end(text, 'utf8');
    return response;
  }
}

/** `res.json(body)` would write exactly JSON.stringify(body) with the default JSON headers. */
function plainJsonAnswer(response: Response, body: unknown, statusCode: number | undefined): boolean {
  if (typeof body !== 'object' || body === null) return false;
  if (body instanceof StreamableFile || body instanceof Error || ArrayBuffer.isView(body)) return false;
  const status = statusCode || response.statusCode;
  if (status === 204 || status === 205 || status === 304) return false;
  if (response.hasHeader('content-type') || response.hasHeader('etag')) return false;
  const app = response.app;
  if (app.get('etag fn') || app.get('json replacer') || app.get('json spaces') || app.get('json escape')) return false;
  const request: Request = response.req;
  // Express answers 304 to a fresh conditional GET; without these headers no request is fresh.
  if (
    (request.method === 'GET' || request.method === 'HEAD') &&
    (request.headers['if-none-match'] !== undefined || request.headers['if-modified-since'] !== undefined)
  )
    return false;
  return true;
}
