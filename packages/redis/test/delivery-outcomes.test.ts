import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { newEventId } from '@fanout/core';
import { ATTEMPT_LOG_LENGTH, openDeliveryMember, readAttempts, readDeadLetterEvent, readDeliveryRecord, writeDeliveryOutcome, type AttemptRecord } from '@fanout/redis';
import { createRedisFixture, type RedisFixture } from '@fanout/testkit';

describe('writeDeliveryOutcome', () => {
  let fx: RedisFixture;
  beforeEach(async () => {
    fx = await createRedisFixture();
  });
  afterEach(() => fx.cleanup());

  const retry = (attempt: number): AttemptRecord => ({ attempt, at: attempt, durationMs: 1, outcome: 'retry', statusCode: 503, error: 'HTTP 503' });

  it('keeps the newest attempts of a delivery, and the record says where it stands', async () => {
    const eventId = newEventId();
    for (let attempt = 1; attempt <= ATTEMPT_LOG_LENGTH + 2; attempt++) {
      await writeDeliveryOutcome(fx.redis, fx.keys, { eventId, destination: 'orders', attempt: retry(attempt), record: { status: 'retrying', attempts: attempt, lastError: 'HTTP 503', updatedAt: attempt } }, 60_000);
    }
    const attempts = await readAttempts(fx.redis, fx.keys, eventId, 'orders');
    expect(attempts).toHaveLength(ATTEMPT_LOG_LENGTH);
    expect(attempts[0]?.attempt).toBe(3);
    expect(attempts.at(-1)?.attempt).toBe(ATTEMPT_LOG_LENGTH + 2);
    expect(await readDeliveryRecord(fx.redis, fx.keys, eventId, 'orders')).toMatchObject({ status: 'retrying', attempts: ATTEMPT_LOG_LENGTH + 2 });
    expect(await fx.redis.pttl(fx.keys.attempts(eventId, 'orders'))).toBeGreaterThan(50_000);
  });

  it('closes a final delivery and keeps a dead letter’s event for its retention; a retry stays open', async () => {
    const eventId = newEventId();
    const open = async (destination: string): Promise<void> => void (await fx.redis.zadd(fx.keys.openDeliveries, 1, openDeliveryMember(eventId, destination)));
    await Promise.all([open('orders'), open('ledger')]);
    const event = { id: eventId, flow: 'payments', receivedAt: 1, contentType: 'application/json', body: Buffer.from('{"a":1}') };
    await writeDeliveryOutcome(fx.redis, fx.keys, { eventId, destination: 'ledger', attempt: retry(1), record: { status: 'retrying', attempts: 1, updatedAt: 1 } }, 60_000);
    await writeDeliveryOutcome(fx.redis, fx.keys, { eventId, destination: 'orders', record: { status: 'dead', attempts: 3, lastError: 'stalled', updatedAt: 2 }, deadLetterCopy: { event, retentionMs: 120_000 } }, 60_000);

    expect(await fx.redis.zrange(fx.keys.openDeliveries, 0, -1)).toEqual([openDeliveryMember(eventId, 'ledger')]);
    expect(await readAttempts(fx.redis, fx.keys, eventId, 'orders')).toEqual([]);
    expect(await readDeadLetterEvent(fx.redis, fx.keys, eventId)).toEqual(event);
    expect(await fx.redis.pttl(fx.keys.deadLetterEvent(eventId))).toBeGreaterThan(110_000);
  });
});
