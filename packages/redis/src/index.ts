export { createRedisConnection, redisOptionsFor, type ConnectionOptions, type ConnectionPurpose } from './connection.js';
export {
  ATTEMPT_LOG_LENGTH,
  DELIVERY_STATUSES,
  readAttempts,
  readDeliveryRecord,
  readEventRecord,
  writeAttempt,
  writeDeliveryRecord,
  writeInitialDeliveryRecords,
  type AttemptRecord,
  type DeliveryRecord,
  type DeliveryStatus,
  type EventRecord,
  type RecordWriter,
} from './delivery-records.js';
export { deleteKeysUnder } from './delete-keys.js';
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
