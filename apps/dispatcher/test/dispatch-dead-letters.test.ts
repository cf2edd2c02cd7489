import { afterEach, describe, expect, it } from '@jest/globals';
import { readEventRecord } from '@fanout/delivery';
import { readDispatchDeadLetters, readNewEvents, type DispatchDeadLetter } from '@fanout/event-log';
import { DISPATCHER_GROUP } from '@fanout/redis';
import { httpDestination, testFlow } from '@fanout/testkit';
import { DEFAULT_MAX_DISPATCH_ATTEMPTS, type JobQueue, type QueueLookup } from '../src/index.js';
import { createHarness, ERROR_LEVEL, jobCount, waitFor, type Harness } from './harness.js';

const shop = testFlow('shop', [
  httpDestination({ name: 'good', url: 'http://127.0.0.1:1/g' }),
  httpDestination({ name: 'flaky', url: 'http://127.0.0.1:1/f', filter: { eventTypes: ['order.created'], path: ['type'] } }),
]);

async function deadLetters(h: Harness): Promise<DispatchDeadLetter[]> {
  return (await readDispatchDeadLetters(h.fx.redis, h.partition, { limit: 100 })).items;
}

describe('dispatcher dead letters', () => {
  let h: Harness;
  afterEach(() => h.close());

  it('moves malformed entries and events of unknown flows there at once, with every field, and dispatches the events after them', async () => {
    h = await createHarness([shop]);
    const malformedId = await h.fx.redis.xadd(h.partition.stream, '*', 'id', 'x', 'flow', 'shop');
    const body = Buffer.from([0x7b, 0x00, 0xff, 0x7d]);
    const unknown = await h.append('gone', body, 'application/octet-stream');
    const good = await h.append('shop', { type: 'order.shipped' });
    await h.start();

    await waitFor('the good event dispatched', async () => (await h.queues.get('shop', 'good')?.getJob(good.eventId)) !== undefined);
    await waitFor('every entry acknowledged', async () => (await h.pendingCount()) === 0);
    const [newest, oldest, ...more] = await deadLetters(h);
    expect(more).toEqual([]);
    expect(oldest).toEqual({
      id: expect.any(String),
      streamId: malformedId,
      reason: expect.stringContaining('malformed stream entry'),
      deliveryCount: 1,
      deadLetteredAt: expect.any(Number),
      fields: { id: 'x', flow: 'shop' },
      body: undefined,
    });
    expect(newest).toMatchObject({ streamId: unknown.streamId, reason: 'flow "gone" is not loaded', deliveryCount: 1, fields: { id: unknown.eventId, flow: 'gone', contentType: 'application/octet-stream' } });
    expect(newest?.body?.equals(body)).toBe(true);
    expect(newest?.deadLetteredAt).toBeLessThanOrEqual(Date.now());
    expect(h.logs.filter(({ msg }) => msg === 'dispatch.dead_lettered')).toEqual([
      expect.objectContaining({ level: ERROR_LEVEL, streamId: malformedId, deliveryCount: 1 }),
      expect.objectContaining({ level: ERROR_LEVEL, streamId: unknown.streamId, eventId: unknown.eventId, flow: 'gone', reason: 'flow "gone" is not loaded' }),
    ]);
    expect((await readEventRecord(h.fx.redis, h.partition, unknown.eventId))?.deliveries).toEqual([]);
  });

  it(`moves an entry whose jobs cannot be created there after ${DEFAULT_MAX_DISPATCH_ATTEMPTS} deliveries, without holding back the entries after it`, async () => {
    h = await createHarness([shop]);
    const failingFlaky: QueueLookup = {
      get: (flow, destination): JobQueue | undefined =>
        destination === 'flaky' ? { name: 'shop.flaky', addBulk: () => Promise.reject(new Error('READONLY You can\'t write against a read only replica.')) } : h.queues.get(flow, destination),
    };
    const created = await h.append('shop', { type: 'order.created' });
    const shipped = await h.append('shop', { type: 'order.shipped' });
    await h.start({ queues: failingFlaky, claimIdleMs: 20, claimEveryMs: 20 });

    await waitFor('the event after it dispatched', async () => (await h.queues.get('shop', 'good')?.getJob(shipped.eventId)) !== undefined);
    const later = await h.append('shop', { type: 'order.shipped' });
    await waitFor('the event appended later dispatched', async () => (await h.queues.get('shop', 'good')?.getJob(later.eventId)) !== undefined);
    await waitFor('the failing entry dead-lettered', async () => (await h.pendingCount()) === 0);

    expect(await deadLetters(h)).toEqual([
      expect.objectContaining({
        streamId: created.streamId,
        reason: "jobs could not be created: READONLY You can't write against a read only replica.",
        deliveryCount: DEFAULT_MAX_DISPATCH_ATTEMPTS,
        fields: expect.objectContaining({ id: created.eventId, flow: 'shop' }),
      }),
    ]);
    expect(h.logs.filter(({ msg }) => msg === 'dispatch.jobs_failed')).toHaveLength(DEFAULT_MAX_DISPATCH_ATTEMPTS);
    // Its other job was created on the first try and stays the only one.
    expect(await jobCount(h.queues, 'shop', 'good')).toBe(3);
  });

  it('moves an entry there without dispatching it once dispatchers have taken it up more often than allowed', async () => {
    h = await createHarness([shop]);
    const poison = await h.append('shop', { type: 'order.created' });
    // Every dispatcher that took it up crashed or hung: its delivery count is at the limit.
    await readNewEvents(await h.connection(), h.partition, 'crashed', 10, 10);
    await h.fx.redis.xclaim(h.partition.stream, DISPATCHER_GROUP, 'crashed', 0, poison.streamId, 'RETRYCOUNT', DEFAULT_MAX_DISPATCH_ATTEMPTS);
    const next = await h.append('shop', { type: 'order.created' });
    await h.start({ consumer: 'survivor', claimIdleMs: 20, claimEveryMs: 20 });

    await waitFor('every entry acknowledged', async () => (await h.pendingCount()) === 0 && (await h.queues.get('shop', 'good')?.getJob(next.eventId)) !== undefined);
    expect(await deadLetters(h)).toEqual([
      expect.objectContaining({ streamId: poison.streamId, reason: expect.stringMatching(/^not dispatched in 5 attempts/), deliveryCount: DEFAULT_MAX_DISPATCH_ATTEMPTS + 1 }),
    ]);
    expect(await h.queues.get('shop', 'good')?.getJob(poison.eventId)).toBeUndefined();
    expect(await h.queues.get('shop', 'flaky')?.getJob(poison.eventId)).toBeUndefined();
  });

  it('pages newest first with a cursor, and counts them all', async () => {
    h = await createHarness([shop]);
    const streamIds: string[] = [];
    for (let i = 0; i < 5; i++) streamIds.push((await h.append('gone', { n: i })).streamId);
    await h.start();
    await waitFor('every entry dead-lettered', async () => (await h.pendingCount()) === 0 && (await h.fx.redis.xlen(h.partition.dispatchDeadLetters)) === 5);

    const seen: string[] = [];
    let cursor: string | undefined;
    const pages: { total: number; size: number }[] = [];
    do {
      const page = await readDispatchDeadLetters(h.fx.redis, h.partition, { limit: 2, ...(cursor === undefined ? {} : { cursor }) });
      pages.push({ total: page.total, size: page.items.length });
      seen.push(...page.items.map(({ streamId }) => streamId));
      cursor = page.nextCursor ?? undefined;
    } while (cursor !== undefined);
    expect(pages).toEqual([
      { total: 5, size: 2 },
      { total: 5, size: 2 },
      { total: 5, size: 1 },
    ]);
    expect(seen).toEqual([...streamIds].reverse());
  });
});
