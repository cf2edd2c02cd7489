export type {
  AmqpDestination,
  Destination,
  DestinationPolicy,
  EventTypeFilter,
  Flow,
  HttpDestination,
  IdempotencyKeyPolicy,
  NatsDestination,
  RateLimit,
  RetryPolicy,
  S3Batch,
  S3Credentials,
  S3Destination,
  SourcePolicy,
} from './flow.js';
export { longestAttemptMs } from './flow.js';
export { FlowLoadError, type FlowLoadErrorOptions } from './errors.js';
export type { FlowIssue } from './issues.js';
export { valueAt } from './json-path.js';
export { deliveryFlowJsonSchema, deliveryFlowJsonSchemaText } from './json-schema.js';
export { loadFlows } from './load-flows.js';
export { parseFlowDocuments } from './parse-flow-documents.js';
export { resolveFlow } from './resolve-flow.js';
export { deliveryFlowSchema, type DeliveryFlowDocument, type DeliveryFlowInput } from './schema.js';
