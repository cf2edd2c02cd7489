import { afterEach, describe, expect, it, jest } from '@jest/globals';
import { newEventId } from '@fanout/core';
import { deliveryState, readAttempts, readDeliveryRecord, readEventPayload, type DeliveryRecord } from '@fanout/delivery';
import { createDestinationRegistry, type DestinationRegistry } from '@fanout/destinations';
import { appendEvent } from '@fanout/event-log';
import type { Flow } from '@fanout/flows';
import { createLogger, createMetrics } from '@fanout/observability';
import { createDeliveryQueues, deliveryJob, type DeliveryQueues } from '@fanout/queues';
import { createRedisFixture, httpDestination, recordAsDispatched, startReceiver, testConnection, testFlow, type RedisFixture, type ScriptedReceiver } from '@fanout/testkit';
import { startWorkers, type DeliveryWorkers, type StallOptions } from '@fanout/worker';
import type { Redis } from 'ioredis';
import { startWorkerProcess, type WorkerProcess } from './worker-process.js';

jest.setTimeout(60_000);

const RECORD_TTL_MS = 600_000;
/** Short locks and frequent checks, so a killed worker's job comes back within seconds; timeouts of 1 s make 2 s locks. */
const STALL: StallOptions = { minLockDurationMs: 1_000, stalledIntervalMs: 200 };

describe('a worker killed mid-attempt', () => {
  let fx: RedisFixture;
  let receiver: ScriptedReceiver;
  let redis: Redis;
  let queues: DeliveryQueues;
  let destinations: DestinationRegistry;
  const processes: WorkerProcess[] = [];
  const workers: DeliveryWorkers[] = [];
  afterEach(async () => {
    for (const child of processes.splice(0)) await child.kill();
    for (const running of workers.splice(0)) await running.stop(1_000);
    await destinations.close();
    await receiver.close();
    await queues.close();
    await fx.cleanup();
    redis.disconnect();
  });

  async function setUp(stall: StallOptions): Promise<Flow> {
    fx = await createRedisFixture();
    receiver = await startReceiver();
    redis = testConnection(fx.url, 'crash-test');
    const flow = testFlow('crash', [httpDestination({ name: 'orders', url: `${receiver.url}/orders`, timeoutMs: 1_000, retry: { attempts: 3, backoff: { type: 'fixed', delayMs: 50, maxDelayMs: 50, jitter: 'none' } } })]);
    queues = createDeliveryQueues({ flows: [flow], connection: redis, keys: fx.keys });
    destinations = createDestinationRegistry();
    const child = await startWorkerProcess({ redisUrl: fx.url, prefix: fx.keys.prefix, flow, recordTtlMs: RECORD_TTL_MS, stall });
    processes.push(child);
    return flow;
  }

  /** Stores an event and dispatches it as the dispatcher does: records, open delivery, job. */
  async function publish(flow: Flow, body: Buffer): Promise<string> {
    const eventId = newEventId();
    const receivedAt = Date.now();
    const partition = fx.keys.partitionOf(eventId);
    const streamId = await appendEvent(redis, partition, { id: eventId, flow: flow.name, receivedAt, contentType: 'application/json', body }, RECORD_TTL_MS);
    await recordAsDispatched(redis, partition, [{ eventId, flow: flow.name, receivedAt, streamId, destinations: new Map([['orders', true]]) }], RECORD_TTL_MS, receivedAt);
    const { name, data, opts } = deliveryJob(flow.destinations[0]!, { eventId, streamId, flow: flow.name, receivedAt });
    await queues.get(flow.name, 'orders')!.add(name, data, opts);
    return eventId;
  }

  function startLocalWorkers(flow: Flow, stall: StallOptions): DeliveryWorkers {
    const state = deliveryState({ redis, keys: fx.keys, attemptLogTtlMs: RECORD_TTL_MS, now: Date.now });
    const running = startWorkers({ flows: [flow], connection: redis, keys: fx.keys, state, destinations, metrics: createMetrics(), logger: createLogger({ level: 'silent' }), ...stall });
    workers.push(running);
    return running;
  }

  async function waitForRecord(eventId: string, accept: (record: DeliveryRecord) => boolean): Promise<DeliveryRecord> {
    const deadline = Date.now() + 20_000;
    for (;;) {
      const record = await readDeliveryRecord(redis, fx.keys.partitionOf(eventId), eventId, 'orders');
      if (record && accept(record)) return record;
      if (Date.now() > deadline) throw new Error(`the record of ${eventId} did not settle; last: ${JSON.stringify(record)}; child log: ${processes.map((child) => child.stderr()).join('\n')}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  it('gets its job back: attempted again with the same webhook-id, as attempt 2, and nothing stays active', async () => {
    const flow = await setUp(STALL);
    receiver.script('/orders', (request) => (request.nth === 1 ? 'hang' : { status: 200 }));
    const eventId = await publish(flow, Buffer.from('{"type":"a"}'));
    await receiver.waitFor('/orders', 1);
    await processes[0]!.kill();

    startLocalWorkers(flow, STALL);
    await expect(waitForRecord(eventId, ({ status }) => status === 'delivered')).resolves.toMatchObject({ status: 'delivered', attempts: 2, statusCode: 200 });

    expect(receiver.requestsTo('/orders').map((request) => request.headers['webhook-id'])).toEqual([eventId, eventId]);
    // Attempt 1 died with its worker: the next start found it active and logged it as interrupted.
    expect((await readAttempts(redis, fx.keys.partitionOf(eventId), eventId, 'orders')).map(({ attempt, outcome }) => [attempt, outcome])).toEqual([[1, 'interrupted'], [2, 'delivered']]);
    const queue = queues.get(flow.name, 'orders')!;
    await expect(queue.getJobState(eventId)).resolves.toBe('completed');
    const job = await queue.getJob(eventId);
    expect(job?.attemptsStarted).toBe(2);
    expect(job?.stalledCounter).toBe(1);
    expect(await queue.getActiveCount()).toBe(0);
    expect(await redis.zcard(fx.keys.partitions[0]!.openDeliveries)).toBe(0);
  });

  it('is dead-lettered once its job stalled more often than allowed, and its record says so', async () => {
    const stall: StallOptions = { ...STALL, maxStalledCount: 1 };
    const flow = await setUp(stall);
    receiver.script('/orders', () => 'hang');
    const body = Buffer.from('{"type":"kills its worker"}');
    const eventId = await publish(flow, body);
    await receiver.waitFor('/orders', 1);
    await processes[0]!.kill();
    // The second worker process takes the stalled job up and is killed too.
    processes.push(await startWorkerProcess({ redisUrl: fx.url, prefix: fx.keys.prefix, flow, recordTtlMs: RECORD_TTL_MS, stall }));
    await receiver.waitFor('/orders', 2, 20_000);
    await processes[1]!.kill();

    startLocalWorkers(flow, stall);
    const record = await waitForRecord(eventId, ({ status }) => status === 'dead');
    expect(record).toMatchObject({ status: 'dead', attempts: 2, error: 'job stalled more than allowable limit' });
    const queue = queues.get(flow.name, 'orders')!;
    await expect(queue.getJobState(eventId)).resolves.toBe('failed');
    expect((await queue.getJob(eventId))?.failedReason).toBe('job stalled more than allowable limit');
    // The third start failed the job before any attempt: the destination saw two.
    expect(receiver.requestsTo('/orders')).toHaveLength(2);
    const partition = fx.keys.partitionOf(eventId);
    expect(await redis.zcard(partition.openDeliveries)).toBe(0);
    await redis.del(partition.stream);
    expect((await readEventPayload(redis, partition, eventId, '0-1'))?.body.equals(body)).toBe(true);
  });
});
