import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { newEventId } from '@fanout/core';
import { createRedisFixture, type RedisFixture } from '@fanout/testkit';
import { ackEvents, appendEvent, appendEventOnce, claimStaleEvents, ensureDispatcherGroup, readEvent, readEventRecord, readNewEvents, type EventEntry } from '@fanout/redis';

describe('event stream', () => {
  let fx: RedisFixture;
  beforeEach(async () => {
    fx = await createRedisFixture();
    await ensureDispatcherGroup(fx.redis, fx.keys);
  });
  afterEach(() => fx.cleanup());

  const entry = (body: Buffer): EventEntry => ({ id: newEventId(), flow: 'payments', receivedAt: 1_700_000_000_000, contentType: 'application/octet-stream', body });

  it('stores the body byte for byte and creates the event record in the same write', async () => {
    const body = Buffer.from([0, 255, 10, 13, 0xc3, 0x28]);
    const event = entry(body);
    const streamId = await appendEvent(fx.redis, fx.keys, event, 60_000);

    const batch = await readNewEvents(fx.redis, fx.keys, 'c1', 10, 10);
    expect(batch.events).toEqual([{ streamId, entry: event }]);
    expect((await readEvent(fx.redis, fx.keys, streamId))?.body.equals(body)).toBe(true);
    expect(await readEventRecord(fx.redis, fx.keys, event.id)).toEqual({ id: event.id, flow: 'payments', receivedAt: event.receivedAt, streamId, deliveries: [] });
    expect(await fx.redis.pttl(fx.keys.event(event.id))).toBeGreaterThan(50_000);
  });

  it('hands entries a consumer left unacknowledged to another consumer', async () => {
    const event = entry(Buffer.from('{}'));
    const streamId = await appendEvent(fx.redis, fx.keys, event, 60_000);
    await readNewEvents(fx.redis, fx.keys, 'crashed', 10, 10);

    const claimed = await claimStaleEvents(fx.redis, fx.keys, 'survivor', 0, '0-0', 10);
    expect(claimed.events.map((e) => e.streamId)).toEqual([streamId]);
    await ackEvents(fx.redis, fx.keys, [streamId]);
    expect((await claimStaleEvents(fx.redis, fx.keys, 'survivor', 0, '0-0', 10)).events).toEqual([]);
  });

  it('reports a malformed entry instead of failing the batch', async () => {
    await fx.redis.xadd(fx.keys.eventStream, '*', 'id', 'x', 'flow', 'payments');
    const good = entry(Buffer.from('ok'));
    await appendEvent(fx.redis, fx.keys, good, 60_000);
    const batch = await readNewEvents(fx.redis, fx.keys, 'c1', 10, 10);
    expect(batch.events.map((e) => e.entry.id)).toEqual([good.id]);
    expect(batch.malformed).toHaveLength(1);
    expect(batch.malformed[0]?.error.message).toMatch(/body/);
  });

  it('appends once per idempotency key: a repeat writes nothing and names the first event', async () => {
    const first = entry(Buffer.from('first'));
    const repeat = entry(Buffer.from('repeat'));
    const idempotency = { key: 'evt_1', ttlMs: 60_000 };

    const appended = await appendEventOnce(fx.redis, fx.keys, first, 60_000, idempotency);
    if (appended.replayed) throw new Error('the first event was taken for a repeat');
    expect(await appendEventOnce(fx.redis, fx.keys, repeat, 60_000, idempotency)).toEqual({ replayed: true, eventId: first.id });

    expect(await fx.redis.xlen(fx.keys.eventStream)).toBe(1);
    expect(await readEventRecord(fx.redis, fx.keys, repeat.id)).toBeUndefined();
    expect(await readEventRecord(fx.redis, fx.keys, first.id)).toMatchObject({ flow: 'payments', streamId: appended.streamId });
    const pttl = await fx.redis.pttl(fx.keys.idempotency('payments', 'evt_1'));
    expect(pttl).toBeGreaterThan(50_000);
    expect(pttl).toBeLessThanOrEqual(60_000);
  });
});
