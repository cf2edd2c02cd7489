import { pino, type Logger, type LoggerOptions } from 'pino';
import pinoPretty from 'pino-pretty';

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

/** `json`: one JSON object per line, for machines. `pretty`: coloured, one readable line per entry, for a terminal. */
export const LOG_FORMATS = ['json', 'pretty'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

export interface LoggerConfig {
  /** pino level. Default `info`. */
  level?: string;
  /** Bound to every line, e.g. `{ role: 'worker' }`. */
  base?: Record<string, unknown>;
  /** Default `json`. */
  format?: LogFormat;
  /** Where lines go. Default stdout. */
  destination?: NodeJS.WritableStream;
}

export function createLogger({ level = 'info', base = {}, format = 'json', destination }: LoggerConfig = {}): Logger {
  const options: LoggerOptions = { level, base, redact: { paths: REDACTED_PATHS, censor: '[redacted]' } };
  if (format === 'pretty') {
    // In this thread and synchronous, unlike pino's transport worker: nothing is lost when the process exits right after a line.
    return pino(options, pinoPretty({ sync: true, singleLine: true, ignore: 'pid,hostname,service', translateTime: 'HH:MM:ss.l', ...(destination && { destination }) }));
  }
  return destination ? pino(options, destination) : pino(options);
}
