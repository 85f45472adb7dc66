import pino, { type Logger } from 'pino';

/** Structured logs, one event per line, with the correlation id when there is one. */
export const createLogger = (level = process.env.LOG_LEVEL ?? 'info'): Logger =>
  pino({ level, base: { service: 'lifeline' }, timestamp: pino.stdTimeFunctions.isoTime });

export type { Logger };
