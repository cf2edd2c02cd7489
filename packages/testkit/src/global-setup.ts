import { acquireTestRedis, type TestRedis } from './test-redis.js';

declare global {
  var fanoutTestRedis: TestRedis | undefined;
}

/** Jest global setup: one Redis for the whole integration run; each test file isolates itself by key prefix. */
export default async function globalSetup(): Promise<void> {
  const redis = await acquireTestRedis();
  globalThis.fanoutTestRedis = redis;
  process.env['FANOUT_TEST_REDIS_URL'] = redis.url;
}
