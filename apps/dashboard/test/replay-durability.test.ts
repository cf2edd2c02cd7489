import { afterEach, describe, expect, it, jest } from '@jest/globals';
import { newEventId } from '@fanout/core';
import { DELIVERY_SCRIPTS, deliveryState, readAttempts, readDeliveryRecord, type DeliveryStatus } from '@fanout/delivery';
import { createDestinationRegistry, type DestinationRegistry } from '@fanout/destinations';
import { flowPlans, startDispatcher, type Dispatcher } from '@fanout/dispatcher';
import { appendEvent, readEvent, trimEventStream } from '@fanout/event-log';
import type { Flow } from '@fanout/flows';
import { createLogger, createMetrics } from '@fanout/observability';
import { createRedisConnection } from '@fanout/redis';
import { httpDestination, replies, startReceiver, testFlow, type ScriptedReceiver } from '@fanout/testkit';
import { startWorkers, type DeliveryWorkers, type StallOptions } from '@fanout/worker';
import { Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { replayAndWait, startDashboard, type DashboardHarness } from './dashboard-harness.js';

jest.setTimeout(30_000);

const RECORD_TTL_MS = 600_000;
const replayPath = '/flows/payments/destinations/orders/dead-letters/replay';

describe('replaying dead letters', () => {
  let harness: DashboardHarness;
  let receiver: ScriptedReceiver;
  let destinations: DestinationRegistry;
  let dispatcher: Dispatcher;
  let blocking: Redis;
  let records: Redis;
  const workers: DeliveryWorkers[] = [];
  afterEach(async () => {
    await dispatcher.stop();
    blocking.disconnect();
    records.disconnect();
    for (const running of workers.splice(0)) await running.stop(1_000);
    await destinations.close();
    await receiver.close();
    await harness.close();
  });

  /** The dashboard, a receiver for `orders`, and a dispatcher that never trims by itself. */
  async function setUp(): Promise<Flow> {
    receiver = await startReceiver();
    const flow = testFlow('payments', [httpDestination({ name: 'orders', url: `${receiver.url}/orders`, timeoutMs: 100 })]);
    harness = await startDashboard({ flows: [flow] });
    destinations = createDestinationRegistry();
    const { fx, queues, bullConnection } = harness;
    const findFlow = (name: string): Flow | undefined => (name === flow.name ? flow : undefined);
    blocking = bullConnection.duplicate();
    // As in `fanout start`: the workers' records on an auto-pipelined connection of their own.
    records = createRedisConnection(fx.url, { purpose: 'background', autoPipelining: true, scripts: [DELIVERY_SCRIPTS] });
    dispatcher = startDispatcher({ plans: flowPlans({ findFlow, redis: fx.redis, keys: fx.keys }), redis: blocking, writer: fx.redis, partition: fx.keys.partitions[0]!, queues, metrics: createMetrics(), logger: createLogger({ level: 'silent' }), consumer: 'd', blockMs: 100, claimIdleMs: 30_000, eventRecordTtlMs: RECORD_TTL_MS, streamRetentionMs: 10 * RECORD_TTL_MS });
    return flow;
  }
  function startOurWorkers(flow: Flow, stall: StallOptions = { minLockDurationMs: 30_000, stalledIntervalMs: 10_000 }): void {
    const state = deliveryState({ redis: records, keys: harness.fx.keys, attemptLogTtlMs: RECORD_TTL_MS, now: Date.now });
    workers.push(startWorkers({ flows: [flow], connection: harness.bullConnection, keys: harness.fx.keys, state, destinations, metrics: createMetrics(), logger: createLogger({ level: 'silent' }), ...stall }));
  }
  async function append(body: Buffer): Promise<{ eventId: string; streamId: string }> {
    const eventId = newEventId();
    const streamId = await appendEvent(harness.fx.redis, harness.fx.keys.partitionOf(eventId), { id: eventId, flow: 'payments', receivedAt: Date.now(), contentType: 'application/octet-stream', body }, RECORD_TTL_MS);
    return { eventId, streamId };
  }
  async function waitForStatus(eventId: string, status: DeliveryStatus): Promise<void> {
    const deadline = Date.now() + 15_000;
    while ((await readDeliveryRecord(harness.fx.redis, harness.fx.keys.partitionOf(eventId), eventId, 'orders'))?.status !== status) {
      if (Date.now() > deadline) throw new Error(`the delivery of ${eventId} never became ${status}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  it('delivers a dead letter whose stream entry retention trimmed, byte for byte, from the copy kept for it', async () => {
    const flow = await setUp();
    receiver.script('/orders', replies.failFirst(1, 410));
    startOurWorkers(flow);
    const body = Buffer.from([0x00, 0xff, 0x7b, 0x0a]);
    const { eventId, streamId } = await append(body);
    await waitForStatus(eventId, 'dead');
    // A later event: the last entry the dispatchers read is never trimmed.
    const later = await append(Buffer.from('{}'));
    await waitForStatus(later.eventId, 'delivered');

    const trimmed = await trimEventStream(harness.fx.redis, harness.fx.keys.partitions[0]!, { now: Date.now() + 1_000, retentionMs: 1, openDeliveryMaxAgeMs: RECORD_TTL_MS, deadLetterRetentionMs: RECORD_TTL_MS });
    expect(trimmed.trimmed).toBe(1);
    expect(await readEvent(harness.fx.redis, harness.fx.keys.partitions[0]!, streamId)).toBeUndefined();

    const { finished } = await replayAndWait(harness, replayPath);
    expect(finished).toMatchObject({ matched: 1, queued: 1 });
    await waitForStatus(eventId, 'delivered');
    const [refused, delivered, ...more] = receiver.requestsTo('/orders').filter((request) => request.headers['webhook-id'] === eventId);
    expect(more).toEqual([]);
    expect(refused?.body.equals(body)).toBe(true);
    expect(delivered?.body.equals(body)).toBe(true);
    expect(delivered?.headers['content-type']).toBe('application/octet-stream');
    expect((await readAttempts(harness.fx.redis, harness.fx.keys.partitionOf(eventId), eventId, 'orders')).map(({ attempt, outcome }) => [attempt, outcome])).toEqual([
      [1, 'dead'],
      [2, 'delivered'],
    ]);
  });

  it('delivers a dead letter that BullMQ failed for stalling too often', async () => {
    const flow = await setUp();
    const queue = harness.queues.get('payments', 'orders')!;
    // A worker that takes the job and dies: its lock is never renewed again. (Its stalled check
    // would hold the queue's check lock for its own, default, interval.)
    const dying = new Worker(queue.name, () => new Promise(() => {}), { connection: harness.bullConnection, prefix: harness.fx.keys.bullPrefix, lockDuration: 300, skipStalledCheck: true });
    const { eventId } = await append(Buffer.from('{}'));
    const deadline = Date.now() + 10_000;
    while ((await queue.getJobState(eventId)) !== 'active') {
      if (Date.now() > deadline) throw new Error('the job never became active');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await dying.close(true);

    startOurWorkers(flow, { minLockDurationMs: 300, stalledIntervalMs: 100, maxStalledCount: 0 });
    await waitForStatus(eventId, 'dead');
    expect((await queue.getJob(eventId))?.failedReason).toBe('job stalled more than allowable limit');
    expect(receiver.requestsTo('/orders')).toEqual([]);

    const { started, finished } = await replayAndWait(harness, replayPath, { ids: [eventId] });
    expect([started.notFound, finished.queued]).toEqual([[], 1]);
    await waitForStatus(eventId, 'delivered');
    expect(receiver.requestsTo('/orders').map((request) => request.headers['webhook-id'])).toEqual([eventId]);
    // With a fresh stall count too: one more stall would not fail it at once.
    expect((await queue.getJob(eventId))?.stalledCounter).toBe(0);
  });
});
