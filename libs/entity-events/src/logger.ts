/** The structured logger this library writes to; pino's `logger.info(obj, msg)` fits as is. */
export interface EntityEventsLogger {
  info(obj: Record<string, unknown>, msg: string): void;
  warn(obj: Record<string, unknown>, msg: string): void;
  error(obj: Record<string, unknown>, msg: string): void;
}

export const silentLogger: EntityEventsLogger = {
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};

export function errorFields(error: unknown): Record<string, unknown> {
  if (error instanceof Error) return { error: error.message, errorName: error.name };
  return { error: String(error) };
}
