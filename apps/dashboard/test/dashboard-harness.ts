import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import type { Flow } from '@fanout/flows';
import { errorHandler, notFoundHandler } from '@fanout/http';
import { createLogger } from '@fanout/observability';
import { createDeliveryQueues, DELIVERY_JOB_NAME, deliveryJobOptions, type DeliveryJob, type DeliveryQueue, type DeliveryQueues } from '@fanout/queues';
import { createRedisFixture, type RedisFixture } from '@fanout/testkit';
import { UnrecoverableError, Worker } from 'bullmq';
import express from 'express';
import { Redis } from 'ioredis';
import { buildDashboard } from '../src/index.js';

export const ADMIN_TOKEN = 'test-admin-token';

export interface DashboardHarness {
  readonly url: string;
  readonly fx: RedisFixture;
  readonly queues: DeliveryQueues;
  /** The connection BullMQ queues and test workers share. */
  readonly bullConnection: Redis;
  /** Every log line the dashboard wrote, parsed. */
  readonly logLines: Record<string, unknown>[];
  close(): Promise<void>;
}

export interface HarnessOptions {
  flows: readonly Flow[];
  /** Default ADMIN_TOKEN; pass undefined for "not configured". */
  adminToken?: string | undefined;
  now?: () => number;
}

/**
 * The dashboard router mounted the way the all-in-one process mounts it: beside a route of
 * another role (`GET /healthz`), with a JSON 404 behind everything, on 127.0.0.1:0.
 */
export async function startDashboard(options: HarnessOptions): Promise<DashboardHarness> {
  const fx = await createRedisFixture();
  const bullConnection = new Redis(fx.url, { maxRetriesPerRequest: null });
  const queues = createDeliveryQueues({ flows: options.flows, connection: bullConnection, keys: fx.keys });
  // A queue closed while it still connects fails its connect after losing its listeners: an unhandled 'error'.
  await Promise.all([...queues.byName.values()].map((queue) => queue.waitUntilReady()));
  const logLines: Record<string, unknown>[] = [];
  const logger = createLogger({
    level: 'debug',
    destination: new Writable({
      write(chunk: Buffer, _encoding, done) {
        logLines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
        done();
      },
    }),
  });
  const adminToken = 'adminToken' in options ? options.adminToken : ADMIN_TOKEN;
  const app = express();
  app.use(buildDashboard({ flows: options.flows, queues, redis: fx.redis, keys: fx.keys, logger, adminToken, ...(options.now ? { now: options.now } : {}) }));
  app.get('/healthz', (_req, res) => void res.json({ status: 'ok' }));
  app.use(notFoundHandler);
  app.use(errorHandler(logger));
  const server = createServer(app).listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    fx,
    queues,
    bullConnection,
    logLines,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await queues.close();
      bullConnection.disconnect();
      await fx.cleanup();
    },
  };
}

export const bearer = (token: string): Record<string, string> => ({ authorization: `Bearer ${token}` });
export const basic = (user: string, password: string): Record<string, string> => ({ authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` });

/** GET or POST with the admin token, answering status, headers and the parsed JSON body. */
export async function adminRequest(url: string, init: { method?: string; body?: string; headers?: Record<string, string> } = {}): Promise<{ status: number; headers: Headers; body: unknown }> {
  const response = await fetch(url, { ...init, headers: { ...bearer(ADMIN_TOKEN), ...init.headers } });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: text ? (JSON.parse(text) as unknown) : undefined };
}

/** Adds a delivery job per event id, as the dispatcher would. */
export async function addDeliveries(queue: DeliveryQueue, flow: Flow, destinationName: string, eventIds: readonly string[], receivedAt = 1_700_000_000_000): Promise<void> {
  const destination = flow.destinations.find((candidate) => candidate.name === destinationName);
  if (!destination) throw new Error(`no destination ${destinationName}`);
  for (const eventId of eventIds) {
    const job: DeliveryJob = { eventId, streamId: '1-0', flow: flow.name, destination: destinationName, receivedAt };
    await queue.add(DELIVERY_JOB_NAME, job, deliveryJobOptions(destination, eventId));
  }
}

/**
 * Dead-letters every waiting job of the queue for real: a worker whose processor refuses each
 * delivery for good. One at a time with a pause, so failure times are distinct and "newest
 * first" is well defined. Answers the event ids in the order they failed.
 */
export async function failAllWaiting(harness: DashboardHarness, queue: DeliveryQueue, count: number, { sequential = true } = {}): Promise<string[]> {
  const failed: string[] = [];
  let worker: Worker<DeliveryJob> | undefined;
  const done = new Promise<void>((resolve, reject) => {
    worker = new Worker<DeliveryJob>(
      queue.name,
      async (job) => {
        if (sequential) await new Promise((wait) => setTimeout(wait, 3));
        throw new UnrecoverableError(`410 Gone for ${job.data.eventId}`);
      },
      { connection: harness.bullConnection, prefix: harness.fx.keys.bullPrefix, concurrency: sequential ? 1 : 20 },
    );
    worker.on('failed', (job) => {
      if (job) failed.push(job.data.eventId);
      if (failed.length === count) resolve();
    });
    worker.on('error', reject);
  });
  try {
    await done;
    return failed;
  } finally {
    await worker?.close();
  }
}
