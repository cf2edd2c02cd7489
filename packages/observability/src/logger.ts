import { pino, type Logger, type LoggerOptions } from 'pino';

export type { Logger } from 'pino';

/** Paths whose values never reach a log line: credentials, signatures, secrets in flows. */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'headers.authorization',
  'headers["webhook-signature"]',
  'headers["x-hub-signature-256"]',
  'headers["stripe-signature"]',
  '*.secret',
  '*.*.secret',
  'secret',
  // An s3 destination's keys, wherever a destination is logged.
  'credentials',
  '*.credentials',
  '*.*.credentials',
];

export interface LoggerConfig {
  /** pino level. Default `info`. */
  level?: string;
  /** Bound to every line, e.g. `{ role: 'worker' }`. */
  base?: Record<string, unknown>;
  /** Where lines go. Default stdout. */
  destination?: NodeJS.WritableStream;
}

export function createLogger({ level = 'info', base = {}, destination }: LoggerConfig = {}): Logger {
  const options: LoggerOptions = { level, base, redact: { paths: REDACTED_PATHS, censor: '[redacted]' } };
  return destination ? pino(options, destination) : pino(options);
}
