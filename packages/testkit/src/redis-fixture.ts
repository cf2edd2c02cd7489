import { randomUUID } from 'node:crypto';
import { createKeys, deleteKeysUnder, type FanoutKeys } from '@fanout/redis';
import { Redis } from 'ioredis';

/** One test's corner of the shared test Redis: its own key prefix and a connection. */
export interface RedisFixture {
  readonly url: string;
  readonly keys: FanoutKeys;
  readonly redis: Redis;
  /** Deletes every key under the prefix and closes the connection. */
  cleanup(): Promise<void>;
}

export function testRedisUrl(): string {
  const url = process.env['FANOUT_TEST_REDIS_URL'];
  if (!url) throw new Error('FANOUT_TEST_REDIS_URL is not set: run integration tests through jest (the testkit global setup starts Redis)');
  return url;
}

export async function createRedisFixture(): Promise<RedisFixture> {
  const url = testRedisUrl();
  const keys = createKeys(`t-${randomUUID().slice(0, 8)}`);
  const redis = new Redis(url, { maxRetriesPerRequest: null });
  return {
    url,
    keys,
    redis,
    async cleanup() {
      await deleteKeysUnder(redis, keys.prefix);
      redis.disconnect();
    },
  };
}
