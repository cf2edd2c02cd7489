export { deliveryAttempt } from './attempt-factory.js';
export { CHROMIUM, launchBrowser } from './browser.js';
export { httpDestination, testFlow, type DestinationOverrides } from './flow-factory.js';
export { replies, startReceiver, type ReceivedRequest, type ReplyScript, type ScriptedReceiver, type ScriptedReply } from './receiver.js';
export { ALL_SCRIPTS, createRedisFixture, testConnection, testRedisUrl, type RedisFixture } from './redis-fixture.js';
export { acquireTestRedis, type TestRedis } from './test-redis.js';
