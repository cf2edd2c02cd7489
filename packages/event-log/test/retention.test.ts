import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { createRedisFixture, type RedisFixture } from '@fanout/testkit';
import { ackEvents, encodeEventEntry, ensureDispatcherGroup, readNewEvents, trimEventStream, type TrimOptions } from '@fanout/event-log';
import type { PartitionKeys } from '@fanout/redis';

const HOUR = 3_600_000;
/** Far past every entry: only what holds entries back keeps them. */
const LATER: TrimOptions = { now: 1_000 * HOUR, retentionMs: HOUR, openDeliveryMaxAgeMs: 10_000 * HOUR, deadLetterRetentionMs: 10_000 * HOUR };

describe('trimEventStream', () => {
  let fx: RedisFixture;
  let p: PartitionKeys;
  /** Stream ids of entries appended 1 h, 2 h … 5 h after the epoch. */
  let ids: string[];
  beforeEach(async () => {
    fx = await createRedisFixture();
    p = fx.keys.partitions[0]!;
    ids = [];
    for (let hour = 1; hour <= 5; hour++) {
      const id = `${hour * HOUR}-0`;
      await fx.redis.xadd(p.stream, id, ...encodeEventEntry({ id: `e${hour}`, flow: 'payments', receivedAt: hour * HOUR, contentType: 'text/plain', body: Buffer.from(`${hour}`) }));
      ids.push(id);
    }
  });
  afterEach(() => fx.cleanup());

  const remaining = async (): Promise<string[]> => (await fx.redis.xrange(p.stream, '-', '+')).map(([id]) => id);
  const open = (streamId: string, eventId: string, destination: string): Promise<unknown> => fx.redis.zadd(p.openDeliveries, streamId.split('-')[0]!, `${eventId}:${destination}`);

  it('trims nothing before the dispatchers have a group', async () => {
    expect(await trimEventStream(fx.redis, p, LATER)).toEqual({ trimmed: 0, minId: undefined, deadLettersTrimmed: 0, expiredOpenDeliveries: [] });
    expect(await remaining()).toEqual(ids);
  });

  it('keeps the entries the dispatchers have not read, and those they read but did not dispatch', async () => {
    await ensureDispatcherGroup(fx.redis, p);
    expect(await trimEventStream(fx.redis, p, LATER)).toMatchObject({ trimmed: 0, minId: '0-0' });

    await readNewEvents(fx.redis, p, 'c1', 10, 10);
    await ackEvents(fx.redis, p, ids.slice(0, 2));
    expect(await trimEventStream(fx.redis, p, LATER)).toMatchObject({ trimmed: 2, minId: ids[2] });
    expect(await remaining()).toEqual(ids.slice(2));
  });

  it('keeps the oldest entry with an open delivery and everything after it; trims once it is closed', async () => {
    await ensureDispatcherGroup(fx.redis, p);
    await readNewEvents(fx.redis, p, 'c1', 10, 10);
    await ackEvents(fx.redis, p, ids);
    await open(ids[1]!, 'e2', 'orders');
    await open(ids[3]!, 'e4', 'orders');

    expect(await trimEventStream(fx.redis, p, LATER)).toMatchObject({ trimmed: 1, minId: ids[1] });
    expect(await remaining()).toEqual(ids.slice(1));

    await fx.redis.zrem(p.openDeliveries, 'e2:orders');
    expect(await trimEventStream(fx.redis, p, LATER)).toMatchObject({ trimmed: 2, minId: ids[3] });
    await fx.redis.zrem(p.openDeliveries, 'e4:orders');
    // The last entry the group read bounds the trim too: it keeps itself, never one after it.
    expect(await trimEventStream(fx.redis, p, LATER)).toMatchObject({ trimmed: 1, minId: ids[4] });
    expect(await remaining()).toEqual([ids[4]]);
  });

  it('trims by age only: entries younger than the retention stay', async () => {
    await ensureDispatcherGroup(fx.redis, p);
    await readNewEvents(fx.redis, p, 'c1', 10, 10);
    await ackEvents(fx.redis, p, ids);

    expect(await trimEventStream(fx.redis, p, { ...LATER, now: 4.5 * HOUR, retentionMs: 2 * HOUR })).toMatchObject({ trimmed: 2, minId: `${2.5 * HOUR}-0` });
    expect(await remaining()).toEqual(ids.slice(2));
  });

  it('drops open deliveries past their longest life, and dispatcher dead letters past their retention', async () => {
    await ensureDispatcherGroup(fx.redis, p);
    await readNewEvents(fx.redis, p, 'c1', 10, 10);
    await ackEvents(fx.redis, p, ids);
    await open(ids[0]!, 'e1', 'orders');
    await open(ids[0]!, 'e1', 'archive');
    await open(ids[2]!, 'e3', 'orders');
    await fx.redis.xadd(p.dispatchDeadLetters, `${HOUR}-0`, 'streamId', '1-0');
    await fx.redis.xadd(p.dispatchDeadLetters, `${4 * HOUR}-0`, 'streamId', '2-0');

    const result = await trimEventStream(fx.redis, p, { now: 5 * HOUR, retentionMs: HOUR, openDeliveryMaxAgeMs: 3 * HOUR, deadLetterRetentionMs: 2 * HOUR });
    expect(result).toEqual({ trimmed: 2, minId: ids[2], deadLettersTrimmed: 1, expiredOpenDeliveries: ['e1:archive', 'e1:orders'] });
    expect(await fx.redis.zrange(p.openDeliveries, 0, -1)).toEqual(['e3:orders']);
    expect((await fx.redis.xrange(p.dispatchDeadLetters, '-', '+')).map(([id]) => id)).toEqual([`${4 * HOUR}-0`]);
  });
});
