import { randomUUID } from 'node:crypto';
import { DELIVERY_SCRIPTS } from '@fanout/delivery';
import { EVENT_LOG_SCRIPTS } from '@fanout/event-log';
import { createKeys, createRedisConnection, deleteKeysUnder, type FanoutKeys } from '@fanout/redis';
import type { Redis } from 'ioredis';

/** Every script fanout runs: a test's connections can run any stage's. */
export const ALL_SCRIPTS = [EVENT_LOG_SCRIPTS, DELIVERY_SCRIPTS] as const;

/** A connection to the test Redis that waits for Redis and runs every script (as `background` ones do). */
export function testConnection(url: string, name = 'test'): Redis {
  return createRedisConnection(url, { purpose: 'background', name, scripts: ALL_SCRIPTS });
}

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

export async function createRedisFixture({ partitions = 1 }: { partitions?: number } = {}): Promise<RedisFixture> {
  const url = testRedisUrl();
  const keys = createKeys(`t-${randomUUID().slice(0, 8)}`, partitions);
  const redis = testConnection(url, 'test-fixture');
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
