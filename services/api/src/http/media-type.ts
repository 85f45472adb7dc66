import type { NextFunction, Request, Response } from 'express';
import type { OpenAPIObject } from '@nestjs/swagger';
import { byFirstSegment, METHODS, patternOf } from './method-not-allowed';

interface BodyOperation {
  method: string;
  pattern: RegExp;
  accepted: string[];
}

/** A request carries a body when it says so (RFC 9110): a length above zero, or a chunked transfer. */
const hasBody = (request: Request): boolean =>
  request.headers['transfer-encoding'] !== undefined ||
  (request.headers['content-length'] !== undefined && request.headers['content-length'] !== '0');

/**
 * A body of a media type the operation does not accept answers 415 REQUEST.UNSUPPORTED_MEDIA_TYPE with
 * the accepted types, instead of reaching the controller unparsed (where it looked like no body at all).
 * The accepted types are the OpenAPI document's, so what is documented is what is enforced.
 */
export function unsupportedMediaType(document: OpenAPIObject) {
  const operations = byFirstSegment(
    Object.entries(document.paths).flatMap(([template, item]) =>
      METHODS.flatMap((method): [string, BodyOperation][] => {
        const body = item[method]?.requestBody;
        if (!body || !('content' in body)) return [];
        const accepted = Object.keys(body.content);
        return [[template, { method: method.toUpperCase(), pattern: patternOf(template), accepted }]];
      }),
    ),
  );
  return (request: Request, response: Response, next: NextFunction): void => {
    if (!hasBody(request)) return next();
    const path = request.path;
    const operation = operations(path).find((o) => o.method === request.method && o.pattern.test(path));
    if (!operation) return next();
    const header = request.headers['content-type'];
    const type = (header ?? '').split(';')[0]!.trim().toLowerCase();
    if (operation.accepted.includes(type)) return next();
    response.status(415).json({
      error: {
        code: 'REQUEST.UNSUPPORTED_MEDIA_TYPE',
        message: header
          ? `This operation does not accept ${type || 'that Content-Type'}; send one of: ${operation.accepted.join(', ')}`
          : `Send the body with a Content-Type, one of: ${operation.accepted.join(', ')}`,
        details: { accepted: operation.accepted },
      },
    });
  };
}
