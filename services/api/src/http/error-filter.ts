import { ArgumentsHost, Catch, ExceptionFilter, HttpException } from '@nestjs/common';
import type { Response } from 'express';
import type { Logger } from 'pino';
import { DomainError } from '@lifeline/process-domain';
import { EventIdConflict, WrongExpectedRevision } from '@lifeline/event-store';
import { AuthError } from '../auth/jwt';
import { ReadModelCatchingUp } from '@lifeline/read-models';
import { AsOfUnavailable } from '@lifeline/audit';

const STATUS: Record<DomainError['family'], number> = {
  validation: 400,
  unauthorized: 401,
  forbidden: 403,
  'not-found': 404,
  conflict: 409,
};

export interface ErrorBody {
  error: { code: string; message: string; details?: unknown };
}

/** The one place that turns errors into HTTP: `{error: {code, message, details}}`, never a 500 for bad input. */
@Catch()
export class ErrorFilter implements ExceptionFilter {
  constructor(private readonly logger: Logger) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const response = host.switchToHttp().getResponse<Response>();
    const [status, body] = this.describe(exception);
    // Refused for load (503 AUDIT.BUSY…) or while a view is built from the log: expected, not a fault.
    const refused = exception instanceof AsOfUnavailable || exception instanceof ReadModelCatchingUp;
    if (refused) this.logger.warn({ code: exception.code }, 'query refused for now');
    else if (status >= 500) this.logger.error({ err: exception }, 'request failed');
    if (response.headersSent) return;
    if (refused) response.setHeader('Retry-After', String(exception.retryAfterSeconds));
    response.status(status).json(body);
  }

  private describe(exception: unknown): [number, ErrorBody] {
    const body = (code: string, message: string, details?: unknown): ErrorBody => ({
      error: { code, message, ...(details !== undefined ? { details } : {}) },
    });
    if (exception instanceof DomainError) {
      return [STATUS[exception.family], body(exception.code, exception.message, exception.details)];
    }
    if (exception instanceof AuthError) return [401, body(exception.code, exception.message)];
    if (exception instanceof AsOfUnavailable) return [503, body(exception.code, exception.message)];
    if (exception instanceof ReadModelCatchingUp) {
      return [503, body(exception.code, exception.message, { views: exception.views })];
    }
    if (exception instanceof WrongExpectedRevision)
      return [409, body('CONFLICT.CONCURRENT_CHANGE', 'Someone else changed this at the same time; try again')];
    if (exception instanceof EventIdConflict) {
      return [409, body('ENTITY_EVENT.ID_CONFLICT', 'An event with this id was already recorded for another record')];
    }
    // body-parser errors carry `type` and `status`.
    const parser = exception as { type?: string; status?: number; message?: string };
    if (parser?.type === 'entity.too.large')
      return [413, body('REQUEST.TOO_LARGE', 'The request body is larger than allowed (1 MiB)')];
    if (parser?.type === 'entity.parse.failed')
      return [400, body('REQUEST.MALFORMED_JSON', 'The request body is not valid JSON')];
    if (parser?.type === 'encoding.unsupported' || parser?.type === 'charset.unsupported') {
      return [415, body('REQUEST.UNSUPPORTED_ENCODING', parser.message ?? 'Unsupported encoding')];
    }
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      // Nest turns body-parser's SyntaxError (bad JSON) and Express's URIError (bad %-encoding) into a plain 400.
      if (status === 400) {
        const json = /JSON|Unexpected (token|end)/.test(exception.message);
        return [
          400,
          body(
            json ? 'REQUEST.MALFORMED_JSON' : 'REQUEST.MALFORMED',
            json ? 'The request body is not valid JSON' : exception.message,
          ),
        ];
      }
      const code =
        status === 404
          ? 'NOT_FOUND'
          : status === 405
            ? 'METHOD_NOT_ALLOWED'
            : status === 413
              ? 'REQUEST.TOO_LARGE'
              : `HTTP.${status}`;
      return [status, body(code, exception.message)];
    }
    if (typeof parser?.status === 'number' && parser.status >= 400 && parser.status < 500) {
      return [parser.status, body(`HTTP.${parser.status}`, parser.message ?? 'Bad request')];
    }
    return [500, body('INTERNAL', 'Something went wrong on our side; it is logged')];
  }
}
