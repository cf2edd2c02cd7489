import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { newEventId } from '@fanout/core';
import { openDeliveryMember, recordDispatches, writeDeliveryOutcome, type DeliveryRecord } from '@fanout/redis';
import { createRedisFixture, type RedisFixture } from '@fanout/testkit';

describe('recordDispatches', () => {
  let fx: RedisFixture;
  beforeEach(async () => {
    fx = await createRedisFixture();
  });
  afterEach(() => fx.cleanup());

  const pending: DeliveryRecord = { status: 'pending', attempts: 0, updatedAt: 1 };

  it('answers where each delivery stands and keeps the stream entry of every delivery not yet closed, even one whose job ran first', async () => {
    const eventId = newEventId();
    const streamId = '1700000000000-0';
    // As if these jobs had run before the records were written (jobs sent on another connection, or a failed script retried on a claim).
    const attempt = (outcome: 'retry' | 'delivered') => ({ attempt: 1, at: 1, durationMs: 1, outcome, statusCode: outcome === 'retry' ? 503 : 200 }) as const;
    await writeDeliveryOutcome(fx.redis, fx.keys, { eventId, destination: 'orders', attempt: attempt('retry'), record: { status: 'retrying', attempts: 1, lastError: 'HTTP 503', updatedAt: 2 } }, 60_000);
    await writeDeliveryOutcome(fx.redis, fx.keys, { eventId, destination: 'archive', attempt: attempt('delivered'), record: { status: 'delivered', attempts: 1, deliveredAt: 2, updatedAt: 2 } }, 60_000);

    const records = new Map([['orders', pending], ['archive', pending], ['ledger', pending]]);
    const [statuses] = await recordDispatches(fx.redis, fx.keys, [{ eventId, flow: 'payments', receivedAt: 1, streamId, records, queued: ['orders', 'archive', 'ledger'] }], 60_000);

    expect(Object.fromEntries(statuses ?? [])).toEqual({ orders: 'retrying', archive: 'delivered', ledger: 'pending' });
    const open = await fx.redis.zrange(fx.keys.openDeliveries, 0, -1, 'WITHSCORES');
    const scoreOf = new Map(Array.from({ length: open.length / 2 }, (_, i) => [open[2 * i], open[2 * i + 1]] as const));
    expect(scoreOf).toEqual(new Map([[openDeliveryMember(eventId, 'orders'), '1700000000000'], [openDeliveryMember(eventId, 'ledger'), '1700000000000']]));
  });
});
