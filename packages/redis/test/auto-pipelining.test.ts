import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { newEventId } from '@fanout/core';
import { createRedisConnection, readAttempts, readDeliveryRecord, writeDeliveryOutcome } from '@fanout/redis';
import { createRedisFixture, type RedisFixture } from '@fanout/testkit';
import type { Redis } from 'ioredis';

describe('an auto-pipelined connection', () => {
  let fx: RedisFixture;
  let redis: Redis;
  beforeEach(async () => {
    fx = await createRedisFixture();
    redis = createRedisConnection(fx.url, { purpose: 'background', autoPipelining: true });
  });
  afterEach(async () => {
    redis.disconnect();
    await fx.cleanup();
  });

  // ioredis copies a connection's scripts into each auto-pipeline as it creates it; a script
  // first used in the tick after a plain command would be missing from that pipeline, and
  // ioredis would crash the process when the pipeline answers.
  it('runs a script first used in the same tick as another command', async () => {
    const eventId = newEventId();
    const record = { status: 'delivered', attempts: 1, deliveredAt: 2, updatedAt: 2 } as const;
    const attempt = { attempt: 1, at: 1, durationMs: 1, outcome: 'delivered', statusCode: 200 } as const;
    const [before] = await Promise.all([readDeliveryRecord(redis, fx.keys, eventId, 'orders'), writeDeliveryOutcome(redis, fx.keys, { eventId, destination: 'orders', record, attempt }, 60_000)]);
    expect(before).toBeUndefined();
    expect(await readDeliveryRecord(fx.redis, fx.keys, eventId, 'orders')).toEqual(record);
    expect(await readAttempts(fx.redis, fx.keys, eventId, 'orders')).toEqual([attempt]);
  });
});
