export { createLogger, REDACTED_PATHS, type Logger, type LoggerConfig } from './logger.js';
export { createMetrics, type DeliveryOutcome, type FanoutMetrics, type QueueDepth } from './metrics.js';
