export { decodeDispatchPlan, dispatchPlanOf, encodeDispatchPlan, type DispatchPlan, type PlannedDestination } from './dispatch-plan.js';
export {
  DESTINATION_TYPES,
  longestAttemptMs,
  SENDER_ID_HEADERS,
  SENDER_ID_TTL_MS,
  type AmqpDestination,
  type Destination,
  type DestinationPolicy,
  type EventTypeFilter,
  type Flow,
  type HttpDestination,
  type IdempotencyKeyPolicy,
  type NatsDestination,
  type Ordering,
  type RateLimit,
  type RetryPolicy,
  type S3Batch,
  type S3Credentials,
  type S3Destination,
  type SigningPolicy,
  type SourcePolicy,
  type VerifyPolicy,
} from './flow.js';
export { publishFlowPlans, readFlowPlans, type FlowVersionRef } from './flow-registry.js';
export { FlowLoadError, type FlowLoadErrorOptions } from './errors.js';
export type { FlowIssue } from './issues.js';
export { orderKeyAt, valueAt } from './json-path.js';
export { deliveryFlowJsonSchema, deliveryFlowJsonSchemaText } from './json-schema.js';
export { loadFlows } from './load-flows.js';
export { parseFlowDocuments } from './parse-flow-documents.js';
export { resolveFlow } from './resolve-flow.js';
export { deliveryFlowSchema, type DeliveryFlowDocument, type DeliveryFlowInput } from './schema.js';
export { flowFilesFingerprint, watchFlowFiles, type FlowFileWatch, type WatchFlowFilesOptions } from './watch-flow-files.js';
