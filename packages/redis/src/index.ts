export { createRedisConnection, redisOptionsFor, type ConnectionOptions, type ConnectionPurpose } from './connection.js';
export {
  ATTEMPT_LOG_LENGTH,
  DELIVERY_STATUSES,
  openDeliveryMember,
  readAttempts,
  readDeliveryRecord,
  readEventRecord,
  writeDeliveryRecord,
  type AttemptRecord,
  type DeliveryRecord,
  type DeliveryStatus,
  type EventRecord,
  type RecordWriter,
} from './delivery-records.js';
export { readDeadLetterEvent } from './dead-letter-events.js';
export { writeDeliveryOutcome, type DeliveryOutcome } from './delivery-outcomes.js';
export { deleteKeysUnder } from './delete-keys.js';
export {
  deadLetterEntries,
  readDeliveryCounts,
  readDispatchDeadLetters,
  type DispatchDeadLetter,
  type DispatchDeadLetterPage,
  type DispatchFailure,
} from './dispatch-dead-letters.js';
export { recordDispatches, type EventDispatchRecords } from './dispatch-records.js';
export { decodeEventEntry, encodeEventEntry, type EventEntry } from './event-entry.js';
export {
  ackEvents,
  appendEvent,
  appendEventOnce,
  claimStaleEvents,
  ensureDispatcherGroup,
  readEvent,
  readNewEvents,
  waitForReplicas,
  type AppendOnceResult,
  type ClaimResult,
  type IdempotencyKey,
  type MalformedStreamEntry,
  type StreamBatch,
  type StreamEvent,
} from './event-stream.js';
export { createKeys, DISPATCHER_GROUP, type FanoutKeys } from './keys.js';
export { findFreePort, pingRedis, startRedisServer, type RedisServer, type RedisServerOptions } from './redis-server.js';
export { trimEventStream, type TrimOptions, type TrimResult } from './stream-retention.js';
