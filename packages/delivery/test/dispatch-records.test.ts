import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { newEventId } from '@fanout/core';
import { deliveryState, readEventRecord } from '@fanout/delivery';
import type { PartitionKeys } from '@fanout/redis';
import { createRedisFixture, recordAsDispatched, type RedisFixture } from '@fanout/testkit';

describe('recordDispatches', () => {
  let fx: RedisFixture;
  let p: PartitionKeys;
  beforeEach(async () => {
    fx = await createRedisFixture();
    p = fx.keys.partitions[0]!;
  });
  afterEach(() => fx.cleanup());

  it('writes each delivery’s first record once, answers where it stands, and keeps every delivery not yet settled open', async () => {
    const eventId = newEventId();
    const streamId = '1700000000000-0';
    const event = { eventId, flow: 'payments', receivedAt: 1, streamId, destinations: new Map([['orders', true], ['archive', true], ['ledger', true], ['audit', false]]) };
    const [first] = await recordAsDispatched(fx.redis, p, [event], 60_000, 5);
    expect(Object.fromEntries(first ?? [])).toEqual({ orders: 'pending', archive: 'pending', ledger: 'pending' });
    expect(await readEventRecord(fx.redis, p, eventId)).toEqual({
      id: eventId,
      flow: 'payments',
      receivedAt: 1,
      streamId,
      deliveries: [
        { destination: 'archive', status: 'pending', attempts: 0, at: 5 },
        { destination: 'audit', status: 'filtered', attempts: 0, at: 5 },
        { destination: 'ledger', status: 'pending', attempts: 0, at: 5 },
        { destination: 'orders', status: 'pending', attempts: 0, at: 5 },
      ],
    });

    // Workers moved two deliveries on; the entry is dispatched again (claimed after a dispatcher died).
    const state = deliveryState({ redis: fx.redis, keys: fx.keys, attemptLogTtlMs: 60_000, now: () => 10 });
    const job = { eventId, flow: 'payments', streamId };
    await state.begin({ ...job, destination: 'orders' });
    await state.scheduleRetry({ eventId, destination: 'orders' }, { attempt: 1, startedAt: 10, durationMs: 1 }, 'HTTP 503');
    await state.begin({ ...job, destination: 'archive' });
    await state.markDelivered({ eventId, destination: 'archive' }, { attempt: 1, startedAt: 10, durationMs: 1 });
    const [again] = await recordAsDispatched(fx.redis, p, [event], 60_000, 20);
    expect(Object.fromEntries(again ?? [])).toEqual({ orders: 'retrying', archive: 'delivered', ledger: 'pending' });
    expect((await fx.redis.zrange(p.openDeliveries, 0, -1, 'WITHSCORES')).join(' ')).toBe(`${eventId}:ledger 1700000000000 ${eventId}:orders 1700000000000`);
  });

  it('writes an event record that expired before its entry was dispatched again whole, with its ttl', async () => {
    const eventId = newEventId();
    await recordAsDispatched(fx.redis, p, [{ eventId, flow: 'payments', receivedAt: 7, streamId: '9-0', destinations: new Map([['orders', true]]) }], 30_000, 1);
    expect(await readEventRecord(fx.redis, p, eventId)).toMatchObject({ flow: 'payments', receivedAt: 7, streamId: '9-0' });
    expect(await fx.redis.pttl(p.eventRecords(eventId))).toBeGreaterThan(30_000);
  });

  it('keeps times exact when the clocks disagree: a stream id and a dispatch before receivedAt', async () => {
    const eventId = newEventId();
    // The ingress's clock ahead of Redis's and of the dispatcher's.
    await recordAsDispatched(fx.redis, p, [{ eventId, flow: 'payments', receivedAt: 1_700_000_000_500, streamId: '1700000000000-7', destinations: new Map([['orders', true]]) }], 30_000, 1_700_000_000_100);
    expect(await readEventRecord(fx.redis, p, eventId)).toEqual({
      id: eventId,
      flow: 'payments',
      receivedAt: 1_700_000_000_500,
      streamId: '1700000000000-7',
      deliveries: [{ destination: 'orders', status: 'pending', attempts: 0, at: 1_700_000_000_100 }],
    });
  });
});
