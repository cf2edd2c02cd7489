export { createRedisConnection, redisOptionsFor, type ConnectionOptions, type ConnectionPurpose } from './connection.js';
export { deleteKeysUnder } from './delete-keys.js';
export { createKeys, DISPATCHER_GROUP, IDEMPOTENCY_KEY_MAX_BYTES, RECORD_BUCKET_MS, recordBucketOf, recordBucketTtlMs, type FanoutKeys, type PartitionKeys, type ReplayKeys } from './keys.js';
export { defineScripts, loadScripts, runScript, type FanoutScript, type ScriptSet } from './scripts.js';
export { isTransientRedisFailure, redisFailure, type RedisFailure } from './redis-errors.js';
export { watchRedis, type MemoryUse, type RedisHealth } from './redis-health.js';
