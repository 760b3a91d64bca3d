import { pino, type Logger } from 'pino';
import type { Config } from './config.js';

export type { Logger };

/**
 * The service logger. Paths that could carry secrets or personal data are censored, so that a
 * careless `log.info({ req })` still writes no key, phone number or ID.
 */
export function createLogger(config: Pick<Config, 'logLevel'>, destination?: NodeJS.WritableStream): Logger {
  return pino(
    {
      level: config.logLevel,
      base: { service: 'edumap' },
      redact: {
        paths: ['authorization', 'headers.authorization', 'req.headers.authorization', '*.phone', '*.visitor_ids', 'phone', 'visitor_ids'],
        censor: '[redacted]',
      },
    },
    destination as pino.DestinationStream | undefined,
  );
}
