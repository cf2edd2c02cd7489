import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { newEventId } from '@fanout/core';
import { createRedisFixture, type RedisFixture } from '@fanout/testkit';
import { readEventRecord } from '@fanout/delivery';
import { ackEvents, appendEvent, appendEventOnce, claimStaleEvents, ensureDispatcherGroup, readEvent, readNewEvents, type EventEntry } from '@fanout/event-log';
import type { PartitionKeys } from '@fanout/redis';

describe('event stream', () => {
  let fx: RedisFixture;
  let p: PartitionKeys;
  beforeEach(async () => {
    fx = await createRedisFixture();
    p = fx.keys.partitions[0]!;
    await ensureDispatcherGroup(fx.redis, p);
  });
  afterEach(() => fx.cleanup());

  const entry = (body: Buffer): EventEntry => ({ id: newEventId(), flow: 'payments', receivedAt: 1_700_000_000_000, contentType: 'application/octet-stream', body });

  it('stores the body byte for byte and creates the event record in the same write', async () => {
    const body = Buffer.from([0, 255, 10, 13, 0xc3, 0x28]);
    const event = entry(body);
    const streamId = await appendEvent(fx.redis, p, event, 60_000);

    const batch = await readNewEvents(fx.redis, p, 'c1', 10, 10);
    expect(batch.events).toEqual([{ streamId, entry: event }]);
    expect((await readEvent(fx.redis, p, streamId))?.body.equals(body)).toBe(true);
    expect(await readEventRecord(fx.redis, p, event.id)).toEqual({ id: event.id, flow: 'payments', receivedAt: event.receivedAt, streamId, deliveries: [] });
    expect(await fx.redis.pttl(p.eventRecords(event.id))).toBeGreaterThan(60_000);
  });

  it('hands entries a consumer left unacknowledged to another consumer', async () => {
    const event = entry(Buffer.from('{}'));
    const streamId = await appendEvent(fx.redis, p, event, 60_000);
    await readNewEvents(fx.redis, p, 'crashed', 10, 10);

    const claimed = await claimStaleEvents(fx.redis, p, 'survivor', 0, '0-0', 10);
    expect(claimed.events.map((e) => e.streamId)).toEqual([streamId]);
    await ackEvents(fx.redis, p, [streamId]);
    expect((await claimStaleEvents(fx.redis, p, 'survivor', 0, '0-0', 10)).events).toEqual([]);
  });

  it('reports a malformed entry instead of failing the batch', async () => {
    await fx.redis.xadd(p.stream, '*', 'id', 'x', 'flow', 'payments');
    const good = entry(Buffer.from('ok'));
    await appendEvent(fx.redis, p, good, 60_000);
    const batch = await readNewEvents(fx.redis, p, 'c1', 10, 10);
    expect(batch.events.map((e) => e.entry.id)).toEqual([good.id]);
    expect(batch.malformed).toHaveLength(1);
    expect(batch.malformed[0]?.error.message).toMatch(/body/);
  });

  it('appends once per idempotency key: a repeat writes nothing and names the first event', async () => {
    const first = entry(Buffer.from('first'));
    const repeat = entry(Buffer.from('repeat'));
    const idempotency = { key: 'evt_1', ttlMs: 60_000 };

    const appended = await appendEventOnce(fx.redis, p, first, 60_000, [idempotency]);
    if (appended.replayed) throw new Error('the first event was taken for a repeat');
    expect(await appendEventOnce(fx.redis, p, repeat, 60_000, [idempotency])).toEqual({ replayed: true, eventId: first.id });

    expect(await fx.redis.xlen(p.stream)).toBe(1);
    expect(await readEventRecord(fx.redis, p, repeat.id)).toBeUndefined();
    expect(await readEventRecord(fx.redis, p, first.id)).toMatchObject({ flow: 'payments', streamId: appended.streamId });
    const pttl = await fx.redis.pttl(p.idempotency('payments', 'evt_1'));
    expect(pttl).toBeGreaterThan(50_000);
    expect(pttl).toBeLessThanOrEqual(60_000);
  });

  it('with several keys, writes each with its own ttl, and takes a repeat of any one of them for a repeat', async () => {
    const first = entry(Buffer.from('first'));
    const replay = { key: 'msg_1', ttlMs: 600_000 };
    const own = { key: 'order-7', ttlMs: 60_000 };
    const appended = await appendEventOnce(fx.redis, p, first, 60_000, [replay, own]);
    expect(appended.replayed).toBe(false);
    expect(await fx.redis.get(p.idempotency('payments', 'msg_1'))).toBe(first.id);
    expect(await fx.redis.get(p.idempotency('payments', 'order-7'))).toBe(first.id);
    expect(await fx.redis.pttl(p.idempotency('payments', 'msg_1'))).toBeGreaterThan(60_000);

    expect(await appendEventOnce(fx.redis, p, entry(Buffer.from('a')), 60_000, [replay, { key: 'order-8', ttlMs: 60_000 }])).toEqual({ replayed: true, eventId: first.id });
    expect(await appendEventOnce(fx.redis, p, entry(Buffer.from('b')), 60_000, [{ key: 'msg_2', ttlMs: 600_000 }, own])).toEqual({ replayed: true, eventId: first.id });
    expect(await fx.redis.xlen(p.stream)).toBe(1);
    // A repeat writes nothing: the keys of the refused requests were not kept.
    expect(await fx.redis.exists(p.idempotency('payments', 'order-8'), p.idempotency('payments', 'msg_2'))).toBe(0);
  });

  it('says when it created the group on a stream that holds entries: they may have been dispatched by a group that was lost', async () => {
    const first = await appendEvent(fx.redis, p, entry(Buffer.from('1')), 60_000);
    const newest = await appendEvent(fx.redis, p, entry(Buffer.from('2')), 60_000);
    expect(await ensureDispatcherGroup(fx.redis, p)).toEqual({ created: false });
    await fx.redis.xgroup('DESTROY', p.stream, 'dispatchers');
    expect(await ensureDispatcherGroup(fx.redis, p)).toEqual({ created: true, rereadUpTo: newest });
    expect((await readNewEvents(fx.redis, p, 'c1', 10, 10)).events.map(({ streamId }) => streamId)).toEqual([first, newest]);
  });

  it('keeps each partition apart: its own stream and records', async () => {
    const partitioned = await createRedisFixture({ partitions: 3 });
    try {
      const stored = await Promise.all(Array.from({ length: 12 }, async () => {
        const event = entry(Buffer.from('x'));
        const partition = partitioned.keys.partitionOf(event.id);
        return { event, partition, streamId: await appendEvent(partitioned.redis, partition, event, 60_000) };
      }));
      for (const partition of partitioned.keys.partitions) {
        const inIt = stored.filter((s) => s.partition === partition).map(({ streamId }) => streamId);
        expect((await partitioned.redis.xrange(partition.stream, '-', '+')).map(([id]) => id)).toEqual(inIt);
      }
      for (const { event, partition, streamId } of stored) expect(await readEventRecord(partitioned.redis, partition, event.id)).toMatchObject({ streamId });
    } finally {
      await partitioned.cleanup();
    }
  });
});
