import { afterEach, describe, expect, it, jest } from '@jest/globals';
import { createDestinationRegistry, type DestinationRegistry } from '@fanout/destinations';
import type { Flow } from '@fanout/flows';
import { createLogger } from '@fanout/observability';
import { deliveryState, readDeliveryRecord, type DeliveryStatus } from '@fanout/delivery';
import { readEvent, trimEventStream } from '@fanout/event-log';
import { httpDestination, replies, startReceiver, testFlow, type ScriptedReceiver } from '@fanout/testkit';
import { startWorkers, type DeliveryWorkers } from '@fanout/worker';
import { createHarness, EVENT_RECORD_TTL_MS, waitFor, type Harness } from './harness.js';

jest.setTimeout(30_000);

/** A flow whose `flaky` destination only gets `order.created` events, and retries a minute later. */
const shopFlow = (url: string): Flow =>
  testFlow('shop', [
    httpDestination({ name: 'orders', url: `${url}/orders` }),
    httpDestination({
      name: 'flaky',
      url: `${url}/flaky`,
      filter: { eventTypes: ['order.created'], path: ['type'] },
      retry: { attempts: 3, backoff: { type: 'fixed', delayMs: 60_000, maxDelayMs: 60_000, jitter: 'none' } },
    }),
  ]);

describe('stream retention', () => {
  let h: Harness;
  let receiver: ScriptedReceiver;
  let destinations: DestinationRegistry;
  let workers: DeliveryWorkers;
  afterEach(async () => {
    await workers.stop(1_000);
    await destinations.close();
    await receiver.close();
    await h.close();
  });

  async function start(): Promise<void> {
    receiver = await startReceiver();
    const flow = shopFlow(receiver.url);
    h = await createHarness([flow]);
    destinations = createDestinationRegistry();
    const state = deliveryState({ redis: await h.connection(), keys: h.keys, attemptLogTtlMs: EVENT_RECORD_TTL_MS, now: Date.now });
    workers = startWorkers({ flows: [flow], connection: await h.connection(), keys: h.keys, state, destinations, metrics: h.metrics, logger: createLogger({ level: 'silent' }), minLockDurationMs: 30_000, stalledIntervalMs: 10_000 });
    await workers.waitUntilReady();
    // Every entry is past this retention at once: only open deliveries and undispatched entries hold it back.
    await h.start({ streamRetentionMs: 1, trimEveryMs: 50 });
  }
  const status = async (eventId: string, destination: string): Promise<DeliveryStatus | undefined> => (await readDeliveryRecord(h.fx.redis, h.partition, eventId, destination))?.status;
  const stored = async (streamId: string): Promise<boolean> => (await readEvent(h.fx.redis, h.partition, streamId)) !== undefined;

  it('trims delivered entries but keeps one whose delivery is retrying, until it is delivered', async () => {
    await start();
    receiver.script('/flaky', replies.failFirst(1, 503));
    // Apart by a few ms: an open delivery holds back every entry of its stream id's millisecond.
    const pause = (): Promise<unknown> => new Promise((resolve) => setTimeout(resolve, 5));
    const before = await h.append('shop', { type: 'order.shipped' });
    await pause();
    const retrying = await h.append('shop', { type: 'order.created' });
    await pause();
    const after = await h.append('shop', { type: 'order.shipped' });

    await waitFor('the retrying delivery failed once', async () => (await status(retrying.eventId, 'flaky')) === 'retrying');
    await waitFor('the other deliveries made', async () => (await status(after.eventId, 'orders')) === 'delivered' && (await status(retrying.eventId, 'orders')) === 'delivered');
    await waitFor('the delivered entry before it trimmed', async () => !(await stored(before.streamId)));
    // Trimming stops at the oldest open delivery: the entries from it on all stay, however often it runs.
    const trim = await trimEventStream(h.fx.redis, h.partition, { now: Date.now(), retentionMs: 1, openDeliveryMaxAgeMs: EVENT_RECORD_TTL_MS, deadLetterRetentionMs: EVENT_RECORD_TTL_MS });
    expect(trim).toMatchObject({ trimmed: 0, minId: `${retrying.streamId.split('-')[0]}-0` });
    expect(await stored(retrying.streamId)).toBe(true);
    expect(await stored(after.streamId)).toBe(true);
    expect(await h.fx.redis.zrange(h.partition.openDeliveries, 0, -1)).toEqual([`${retrying.eventId}:flaky`]);

    // The retry, without waiting its minute.
    await (await h.queues.get('shop', 'flaky')?.getJob(retrying.eventId))?.promote();
    await waitFor('the retry delivered', async () => (await status(retrying.eventId, 'flaky')) === 'delivered');
    await waitFor('the rest trimmed', async () => (await h.fx.redis.xlen(h.partition.stream)) <= 1 && !(await stored(retrying.streamId)));
    expect(await h.fx.redis.zcard(h.partition.openDeliveries)).toBe(0);
  });

  it('leaves nothing behind per event without a ttl, so Redis memory stays flat', async () => {
    await start();
    receiver.script('/flaky', replies.status(410));
    const events: { eventId: string; streamId: string }[] = [];
    for (let i = 0; i < 10; i++) events.push(await h.append('shop', { type: i % 2 === 0 ? 'order.created' : 'order.shipped' }));
    await waitFor('every delivery settled', async () => {
      for (const { eventId } of events) if ((await status(eventId, 'orders')) !== 'delivered') return false;
      return (await status(events[0]!.eventId, 'flaky')) === 'dead';
    });
    await waitFor('the stream trimmed', async () => (await h.fx.redis.xlen(h.partition.stream)) <= 1);

    // Bounded by count and age instead: the stream (trimmed), the open deliveries (empty once settled),
    // the dispatcher dead letters (trimmed by age) and BullMQ's queues (removeOnComplete, removeOnFail).
    const bounded = [h.partition.stream, h.partition.openDeliveries, h.partition.dispatchDeadLetters];
    let cursor = '0';
    const unbounded: string[] = [];
    const perEvent: string[] = [];
    do {
      const [next, found] = await h.fx.redis.scan(cursor, 'MATCH', `${h.keys.prefix}:*`, 'COUNT', 1000);
      cursor = next;
      for (const key of found) {
        if (bounded.includes(key) || key.startsWith(`${h.keys.bullPrefix}:`)) continue;
        perEvent.push(key);
        if ((await h.fx.redis.pttl(key)) < 0) unbounded.push(key);
      }
    } while (cursor !== '0');
    expect(unbounded).toEqual([]);
    // The records of all ten (fields of their record buckets), and the five dead letters' event copies.
    const buckets = perEvent.filter((key) => key.includes(':records:'));
    expect(buckets.length).toBeGreaterThan(0);
    expect((await Promise.all(buckets.map((key) => h.fx.redis.hlen(key)))).reduce((sum, fields) => sum + fields, 0)).toBe(10);
    expect(perEvent.filter((key) => key.includes(':dead-letter-event:'))).toHaveLength(5);
  });
});
