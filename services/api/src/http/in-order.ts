import type { NextFunction, Request, RequestHandler, Response } from 'express';

/**
 * Middlewares run one after another as one Express layer: the router's walk costs a few µs per layer
 * on every request. Like the router: an error (thrown, rejected or passed to next) skips the rest and
 * goes on to the error handling; `next('route')` goes on with the next middleware.
 */
export function inOrder(...middlewares: RequestHandler[]): RequestHandler {
  return (request: Request, response: Response, done: NextFunction): void => {
    let index = 0;
    const next = (error?: unknown): void => {
      if (error !== undefined && error !== null && error !== 'route') return done(error);
      const middleware = middlewares[index++];
      if (middleware === undefined) return done();
      try {
        const result: unknown = middleware(request, response, next);
        if (result instanceof Promise)
          result.catch((rejected: unknown) => next(rejected ?? new Error('Rejected promise')));
      } catch (thrown) {
        next(thrown);
      }
    };
    next();
  };
}
