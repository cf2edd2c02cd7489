export type { AttemptOutcome, AttemptReport, DeliveryAttempt, DestinationClient } from './attempt.js';
export { classifyOutcome } from './http/classify-outcome.js';
export { createAmqpKind } from './amqp/amqp-kind.js';
export { createHttpKind, RESPONSE_SNIPPET_BYTES, type HttpKindOptions } from './http/http-kind.js';
export { createNatsKind, natsConnectionOptions } from './nats/nats-kind.js';
export { createNetworkGuard, DEFAULT_DENIED_RANGES, DESTINATION_DENIED, DestinationDeniedError, parseAddressRange, type NetworkGuard, type NetworkGuardOptions } from './network-guard.js';
export { createDestinationRegistry, defaultKinds, type DestinationKind, type DestinationKinds, type DestinationRegistry, type KindOptions } from './registry.js';
export { createS3Client, createS3Kind } from './s3/s3-kind.js';
export { ndjsonLine } from './s3/ndjson-line.js';
