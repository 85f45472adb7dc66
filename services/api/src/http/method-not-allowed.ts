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

/** The first segment of a path: `/tasks/x/claim` → `tasks`. */
const firstSegment = (path: string): string => {
  const end = path.indexOf('/', 1);
  return end === -1 ? path.slice(1) : path.slice(1, end);
};

/**
 * The entries that can match a request path, in the document's order: those whose template starts with
 * the path's first segment, and those starting with a parameter. A request tests a few patterns, not all.
 */
export function byFirstSegment<T>(entries: [template: string, entry: T][]): (path: string) => readonly T[] {
  const segmentOf = (template: string) => {
    const segment = firstSegment(template);
    return segment.includes('{') ? undefined : segment;
  };
  const anywhere = entries.filter(([template]) => segmentOf(template) === undefined).map(([, entry]) => entry);
  const bySegment = new Map<string, T[]>();
  for (const [template] of entries) {
    const segment = segmentOf(template);
    if (segment === undefined || bySegment.has(segment)) continue;
    bySegment.set(
      segment,
      entries.filter(([other]) => [segment, undefined].includes(segmentOf(other))).map(([, entry]) => entry),
    );
  }
  return (path) => bySegment.get(firstSegment(path)) ?? anywhere;
}

/**
 * A known path asked with a method it does not have answers 405 with `Allow` (RFC 9110), not 404;
 * OPTIONS answers 204 with the same `Allow`. The paths and methods are the OpenAPI document's.
 */
export function methodNotAllowed(document: OpenAPIObject) {
  const known = byFirstSegment(
    Object.entries(document.paths).map(([template, item]): [string, KnownPath] => {
      const methods = METHODS.filter((m) => item[m] !== undefined).map((m) => m.toUpperCase());
      if (methods.includes('GET') && !methods.includes('HEAD')) methods.push('HEAD');
      return [template, { pattern: patternOf(template), methods }];
    }),
  );
  return (request: Request, response: Response, next: NextFunction): void => {
    const path = request.path;
    const matching = known(path).filter((k) => k.pattern.test(path));
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
