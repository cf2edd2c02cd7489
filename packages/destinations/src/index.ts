export type { AttemptOutcome, AttemptReport, DeliveryAttempt, DestinationClient } from './attempt.js';
export { classifyOutcome } from './http/classify-outcome.js';
export { createHttpKind, RESPONSE_SNIPPET_BYTES } from './http/http-kind.js';
export { createDestinationRegistry, defaultKinds, type DestinationKind, type DestinationKinds, type DestinationRegistry } from './registry.js';
