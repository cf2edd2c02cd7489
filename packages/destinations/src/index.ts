export type { AttemptOutcome, AttemptReport, DeliveryAttempt, DestinationClient } from './attempt.js';
export { classifyOutcome } from './http/classify-outcome.js';
export { createHttpKind, RESPONSE_SNIPPET_BYTES, type HttpKindOptions } from './http/http-kind.js';
export { createNetworkGuard, DEFAULT_DENIED_RANGES, DESTINATION_DENIED, DestinationDeniedError, parseAddressRange, type NetworkGuard, type NetworkGuardOptions } from './network-guard.js';
export { createDestinationRegistry, defaultKinds, type DestinationKind, type DestinationKinds, type DestinationRegistry, type KindOptions } from './registry.js';
