import type { NextFunction, Request, Response } from 'express';
import type { OpenAPIObject } from '@nestjs/swagger';

export const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;

interface KnownPath {
  pattern: RegExp;
  methods: string[];
}

/** `/tasks/{id}/claim` → /^\/tasks\/[^/]+\/claim\/?$/ */
export const patternOf = (template: string): RegExp =>
  new RegExp(
    `^${template
      .split(/\{[^}]+\}/)
      .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
      .join('[^/]+')}/?$`,
  );

/**
 * A known path asked with a method it does not have answers 405 with `Allow` (RFC 9110), not 404;
 * OPTIONS answers 204 with the same `Allow`. The paths and methods are the OpenAPI document's.
 */
export function methodNotAllowed(document: OpenAPIObject) {
  const known: KnownPath[] = Object.entries(document.paths).map(([template, item]) => {
    const methods = METHODS.filter((m) => item[m] !== undefined).map((m) => m.toUpperCase());
    if (methods.includes('GET') && !methods.includes('HEAD')) methods.push('HEAD');
    return { pattern: patternOf(template), methods };
  });
  return (request: Request, response: Response, next: NextFunction): void => {
    const matching = known.filter((k) => k.pattern.test(request.path));
    if (matching.length === 0) return next();
    const allowed = [...new Set(matching.flatMap((k) => k.methods))];
    if (allowed.includes(request.method)) return next();
    response.set('allow', allowed.join(', '));
    if (request.method === 'OPTIONS') {
      response.status(204).end();
      return;
    }
    response.status(405).json({
      error: {
        code: 'METHOD_NOT_ALLOWED',
        message: `${request.method} is not allowed here; use ${allowed.join(', ')}`,
      },
    });
  };
}
