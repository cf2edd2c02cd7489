export { createLogger, LOG_FORMATS, REDACTED_PATHS, type LogFormat, type Logger, type LoggerConfig } from './logger.js';
export { createMetrics, type DeliveryOutcome, type DestinationStateSample, type FanoutMetrics, type QueueDepth } from './metrics.js';
