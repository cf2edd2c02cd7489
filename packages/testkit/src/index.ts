export { deliveryAttempt } from './attempt-factory.js';
export { CHROMIUM, launchBrowser } from './browser.js';
export { connectNats, connectRabbitMq, NATS_URL, RABBITMQ_URL, uniqueName } from './brokers.js';
export { amqpDestination, httpDestination, natsDestination, s3Destination, testFlow, type DestinationOverrides } from './flow-factory.js';
export { replies, startReceiver, type ReceivedRequest, type ReplyScript, type ScriptedReceiver, type ScriptedReply } from './receiver.js';
export { ALL_SCRIPTS, createRedisFixture, testConnection, testRedisUrl, type RedisFixture } from './redis-fixture.js';
export { acquireTestRedis, type TestRedis } from './test-redis.js';
export { S3_SERVER_CREDENTIALS, startS3Server, type S3Server, type StoredObject } from './s3-server.js';
export { startTcpProxy, type TcpProxy } from './tcp-proxy.js';
