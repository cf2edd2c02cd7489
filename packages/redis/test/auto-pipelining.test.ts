import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { newEventId } from '@fanout/core';
import { DELIVERY_SCRIPTS, deliveryState, readDeliveryRecord } from '@fanout/delivery';
import { createRedisConnection } from '@fanout/redis';
import { createRedisFixture, recordAsDispatched, type RedisFixture } from '@fanout/testkit';
import type { Redis } from 'ioredis';

describe('an auto-pipelined connection', () => {
  let fx: RedisFixture;
  let redis: Redis;
  beforeEach(async () => {
    fx = await createRedisFixture();
    redis = createRedisConnection(fx.url, { purpose: 'background', autoPipelining: true, scripts: [DELIVERY_SCRIPTS] });
  });
  afterEach(async () => {
    redis.disconnect();
    await fx.cleanup();
  });

  // ioredis copies a connection's scripts into each auto-pipeline as it creates it; a script
  // first used in the tick after a plain command would be missing from that pipeline, and
  // ioredis would crash the process when the pipeline answers. Connections get every script
  // they run when they are created.
  it('runs a script first used in the same tick as another command', async () => {
    const eventId = newEventId();
    const p = fx.keys.partitionOf(eventId);
    await recordAsDispatched(fx.redis, p, [{ eventId, flow: 'payments', receivedAt: 1, streamId: '1-0', destinations: new Map([['orders', true]]) }], 60_000, 1);
    const state = deliveryState({ redis, keys: fx.keys, attemptLogTtlMs: 60_000, now: () => 2 });
    const [before, outcome] = await Promise.all([readDeliveryRecord(redis, p, eventId, 'orders'), state.markDelivered({ eventId, destination: 'orders' }, { attempt: 1, startedAt: 1, durationMs: 1 })]);
    expect(before).toMatchObject({ status: 'pending' });
    expect(outcome).toEqual({ status: 'delivered' });
    expect(await readDeliveryRecord(fx.redis, p, eventId, 'orders')).toMatchObject({ status: 'delivered', attempts: 1 });
  });

  it('refuses, with a clear error, a script it was not created with', async () => {
    const bare = createRedisConnection(fx.url, { purpose: 'background' });
    try {
      const state = deliveryState({ redis: bare, keys: fx.keys, attemptLogTtlMs: 60_000, now: () => 2 });
      expect(() => state.replay({ eventId: newEventId(), destination: 'orders' })).toThrow('this Redis connection was created without the script replay');
    } finally {
      bare.disconnect();
    }
  });
});
