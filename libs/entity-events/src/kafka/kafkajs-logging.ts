import { logLevel, type logCreator } from 'kafkajs';
import type { EntityEventsLogger } from '../logger';

/** Routes kafkajs's own log lines (warnings and errors only) into our structured logger. */
export function kafkaLogCreator(logger: EntityEventsLogger): logCreator {
  return () =>
    ({ namespace, level, log }) => {
      const { message, ...fields } = log;
      const entry = { ...fields, kafkaNamespace: namespace };
      if (level === logLevel.ERROR || level === logLevel.NOTHING) logger.error(entry, message);
      else if (level === logLevel.WARN) logger.warn(entry, message);
      else logger.info(entry, message);
    };
}

/** Generous enough for a broker restart of ~20 s: about a minute of attempts before kafkajs gives up. */
export const SURVIVE_BROKER_RESTART_RETRY = {
  initialRetryTime: 300,
  maxRetryTime: 5_000,
  retries: 15,
  multiplier: 2,
  factor: 0.2,
};
