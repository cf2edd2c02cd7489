import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, expect, it, jest } from '@jest/globals';
import { newEventId } from '@fanout/core';
import { deliveryState, readDeliveryRecord } from '@fanout/delivery';
import { createDestinationRegistry, type DestinationRegistry } from '@fanout/destinations';
import { flowPlans, startDispatcher, type Dispatcher } from '@fanout/dispatcher';
import { appendEvent } from '@fanout/event-log';
import { createLogger, createMetrics } from '@fanout/observability';
import { createDeliveryQueues, type DeliveryQueues } from '@fanout/queues';
import { createKeys } from '@fanout/redis';
import { startRedisServer, type RedisServer } from '@fanout/redis-server';
import { httpDestination, startReceiver, testConnection, testFlow, type ScriptedReceiver } from '@fanout/testkit';
import { PRODUCT_STALL } from './harness.js';
import { startWorkers, type DeliveryWorkers } from '@fanout/worker';
import type { Redis } from 'ioredis';

jest.setTimeout(90_000);

const RECORD_TTL_MS = 600_000;
const DESTINATIONS = ['orders', 'ledger'] as const;

let dir: string | undefined;
let server: RedisServer | undefined;
let receiver: ScriptedReceiver | undefined;
let destinations: DestinationRegistry | undefined;
let dispatcher: Dispatcher | undefined;
let workers: DeliveryWorkers | undefined;
let queues: DeliveryQueues | undefined;
const connections: Redis[] = [];
const rejections: unknown[] = [];
const onRejection = (reason: unknown): void => void rejections.push(reason);

afterEach(async () => {
  process.off('unhandledRejection', onRejection);
  await dispatcher?.stop();
  await workers?.stop(1_000);
  await destinations?.close();
  await receiver?.close();
  await queues?.close();
  for (const redis of connections) redis.disconnect();
  await server?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

it('keeps dispatching and delivering through a Redis crash and restart from its AOF: every event delivered, nothing left active', async () => {
  process.on('unhandledRejection', onRejection);
  // A Redis of its own: killing the shared test Redis would break the other test files.
  dir = await mkdtemp(join(tmpdir(), 'fanout-outage-'));
  server = await startRedisServer({ dir, appendFsync: 'always' });
  const connect = async (name: string): Promise<Redis> => {
    const redis = testConnection(server!.url, name);
    connections.push(redis);
    // Failed commands reach the code that sent them; dropped connections are what this test is about.
    redis.on('error', () => {});
    await redis.connect();
    return redis;
  };
  receiver = await startReceiver();
  // Slow answers, so attempts are in flight when Redis dies.
  receiver.script('/orders', () => ({ status: 200, delayMs: 100 }));
  receiver.script('/ledger', () => ({ status: 200, delayMs: 100 }));
  const flow = testFlow('outage', DESTINATIONS.map((name) => httpDestination({ name, url: `${receiver!.url}/${name}`, concurrency: 2 })));
  const keys = createKeys('outage');
  const metrics = createMetrics();
  const logLines: Record<string, unknown>[] = [];
  const logger = createLogger({ destination: new Writable({ write: (chunk: Buffer, _encoding, done) => (logLines.push(JSON.parse(chunk.toString()) as Record<string, unknown>), done()) }) });
  const background = await connect('background');
  queues = createDeliveryQueues({ flows: [flow], connection: background, keys });
  destinations = createDestinationRegistry();
  const state = deliveryState({ redis: background, keys, attemptLogTtlMs: RECORD_TTL_MS, now: Date.now });
  workers = startWorkers({ flows: [flow], connection: background, keys, state, destinations, metrics, logger, ...PRODUCT_STALL });
  await workers.waitUntilReady();
  dispatcher = startDispatcher({
    plans: flowPlans({ findFlow: (name) => (name === flow.name ? flow : undefined), redis: background, keys }),
    redis: await connect('dispatcher'),
    writer: background,
    partition: keys.partitions[0]!,
    queues,
    metrics,
    logger,
    consumer: 'outage-dispatcher',
    blockMs: 100,
    claimIdleMs: 1_000,
    claimEveryMs: 500,
    eventRecordTtlMs: RECORD_TTL_MS,
    streamRetentionMs: 3_600_000,
  });

  const ingress = await connect('ingress');
  const append = async (): Promise<string> => {
    const id = newEventId();
    await appendEvent(ingress, keys.partitionOf(id), { id, flow: flow.name, receivedAt: Date.now(), contentType: 'application/json', body: Buffer.from(JSON.stringify({ id })) }, RECORD_TTL_MS);
    return id;
  };
  const eventIds: string[] = [];
  for (let i = 0; i < 20; i++) eventIds.push(await append());
  await receiver.waitFor('/orders', 3);

  await server.kill();
  await new Promise((resolve) => setTimeout(resolve, 500));
  await server.restart();
  for (let i = 0; i < 5; i++) eventIds.push(await append());

  const deadline = Date.now() + 60_000;
  const undelivered = async (): Promise<string[]> => {
    const missing: string[] = [];
    for (const eventId of eventIds) {
      for (const destination of DESTINATIONS) {
        if ((await readDeliveryRecord(background, keys.partitionOf(eventId), eventId, destination))?.status !== 'delivered') missing.push(`${eventId}:${destination}`);
      }
    }
    return missing;
  };
  for (let missing = await undelivered(); missing.length > 0; missing = await undelivered()) {
    if (Date.now() > deadline) throw new Error(`not delivered after the restart: ${missing.join(', ')}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }

  // At least once: every event reached every destination with its webhook-id (a repeat is allowed, none is lost).
  for (const destination of DESTINATIONS) {
    const seen = new Set(receiver.requestsTo(`/${destination}`).map((request) => request.headers['webhook-id']));
    expect(eventIds.filter((eventId) => !seen.has(eventId))).toEqual([]);
    const queue = queues.get(flow.name, destination)!;
    expect(await queue.getJobCounts('active', 'waiting', 'delayed', 'failed')).toMatchObject({ active: 0, waiting: 0, delayed: 0, failed: 0 });
  }
  expect(await background.zcard(keys.partitions[0]!.openDeliveries)).toBe(0);
  expect(rejections).toEqual([]);
  expect(logLines.some(({ msg }) => msg === 'dispatcher.failed' || msg === 'worker.error')).toBe(true);
});
