export { httpDestination, testFlow, type DestinationOverrides } from './flow-factory.js';
export { replies, startReceiver, type ReceivedRequest, type ReplyScript, type ScriptedReceiver, type ScriptedReply } from './receiver.js';
export { createRedisFixture, testRedisUrl, type RedisFixture } from './redis-fixture.js';
export { acquireTestRedis, type TestRedis } from './test-redis.js';
