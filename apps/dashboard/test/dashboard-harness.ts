import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { newEventId } from '@fanout/core';
import { deliveryState, startReplayer, type DeliveryState, type Replayer } from '@fanout/delivery';
import { appendEvent } from '@fanout/event-log';
import type { Flow } from '@fanout/flows';
import { errorHandler, notFoundHandler } from '@fanout/http';
import { createLogger } from '@fanout/observability';
import { createDeliveryQueues, deliveryJob, type DeliveryJob, type DeliveryQueue, type DeliveryQueues } from '@fanout/queues';
import { createRedisFixture, recordAsDispatched, testConnection, type RedisFixture } from '@fanout/testkit';
import { UnrecoverableError, Worker } from 'bullmq';
import express from 'express';
import type { Redis } from 'ioredis';
import { buildDashboard } from '../src/index.js';

export const ADMIN_TOKEN = 'test-admin-token';

export interface DashboardHarness {
  readonly url: string;
  readonly fx: RedisFixture;
  readonly queues: DeliveryQueues;
  /** The delivery transitions, on the fixture's connection, at the harness's clock. */
  readonly state: DeliveryState;
  /** The connection BullMQ queues and test workers share. */
  readonly bullConnection: Redis;
  /** The replayer the dashboard asks for replays (its runner runs them). */
  readonly replayer: Replayer;
  /** Every log line the dashboard wrote, parsed. */
  readonly logLines: Record<string, unknown>[];
  close(): Promise<void>;
}

export interface HarnessOptions {
  flows: readonly Flow[];
  /** Default ADMIN_TOKEN; pass undefined for "not configured". */
  adminToken?: string | undefined;
  now?: () => number;
  /** FANOUT_DASHBOARD_READONLY. Default false. */
  readOnly?: boolean;
  /** What the process's health probe says of Redis. Default: it answers. */
  redisReachable?: () => boolean;
  /** The replayer's lease and poll, ms. Default 10 000 and 1 000. */
  replayLeaseMs?: number;
  replayPollMs?: number;
}

/**
 * The dashboard router mounted the way the all-in-one process mounts it: beside a route of
 * another role (`GET /healthz`), with a JSON 404 behind everything, on 127.0.0.1:0.
 */
export async function startDashboard(options: HarnessOptions): Promise<DashboardHarness> {
  const fx = await createRedisFixture();
  const bullConnection = testConnection(fx.url, 'dashboard-test-bull');
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
  const state = deliveryState({ redis: fx.redis, keys: fx.keys, attemptLogTtlMs: 600_000, now: options.now ?? Date.now });
  const replayer = startReplayer({ redis: fx.redis, keys: fx.keys, queues, state, logger, ...(options.replayLeaseMs ? { leaseMs: options.replayLeaseMs } : {}), ...(options.replayPollMs ? { pollMs: options.replayPollMs } : {}) });
  app.use(buildDashboard({ flows: options.flows, queues, state, replays: replayer, redis: fx.redis, keys: fx.keys, eventRecordTtlMs: 600_000, logger, adminToken, readOnly: options.readOnly ?? false, ...(options.redisReachable ? { redisReachable: options.redisReachable } : {}) }));
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
    state,
    replayer,
    bullConnection,
    logLines,
    async close() {
      await replayer.stop();
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

/** Stores `count` events as the ingress does and dispatches each to the flow's destinations (records, then jobs) as the dispatcher does; answers their ids. */
export async function dispatchEvents(harness: DashboardHarness, flow: Flow, count: number, receivedAt = 1_700_000_000_000): Promise<string[]> {
  const { fx, queues } = harness;
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const eventId = newEventId();
    const partition = fx.keys.partitionOf(eventId);
    const streamId = await appendEvent(fx.redis, partition, { id: eventId, flow: flow.name, receivedAt, contentType: 'application/json', body: Buffer.from(`{"type":"t","n":${i}}`) }, 600_000);
    await recordAsDispatched(fx.redis, partition, [{ eventId, flow: flow.name, receivedAt, streamId, destinations: new Map(flow.destinations.map(({ name }) => [name, true])) }], 600_000, receivedAt);
    for (const destination of flow.destinations) {
      const { name, data, opts } = deliveryJob(destination, { eventId, streamId, flow: flow.name, receivedAt });
      await queues.get(flow.name, destination.name)!.add(name, data, opts);
    }
    ids.push(eventId);
  }
  return ids;
}

/**
 * Dead-letters every waiting job of the queue for real: a worker whose processor refuses each
 * delivery for good, recording it through the transitions as fanout's workers do. One at a
 * time with a pause, so failure times are distinct and "newest first" is well defined.
 * Answers the event ids in the order they failed. `error` is each one's reason (default `HTTP 410`).
 */
export async function failAllWaiting(harness: DashboardHarness, queue: DeliveryQueue, count: number, { sequential = true, error = 'HTTP 410' } = {}): Promise<string[]> {
  const failed: string[] = [];
  let worker: Worker<DeliveryJob> | undefined;
  const done = new Promise<void>((resolve, reject) => {
    worker = new Worker<DeliveryJob>(
      queue.name,
      async (job) => {
        if (sequential) await new Promise((wait) => setTimeout(wait, 3));
        const { eventId, destination, flow, streamId } = job.data;
        const begun = await harness.state.begin({ eventId, destination, flow, streamId });
        const attempt = begun.kind === 'send' ? begun.attempt : 1;
        await harness.state.deadLetter({ eventId, destination }, { error, attempt: { attempt, startedAt: Date.now(), durationMs: 1, statusCode: 410, response: `gone: ${eventId}` }, retentionMs: 86_400_000 });
        throw new UnrecoverableError(error);
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

/** What a replay request answers, and the replay once finished (GET /replays/:replay). */
export interface FinishedReplay {
  readonly status: number;
  readonly started: { replay: string; matched: number; notFound?: string[]; outOfOrder?: true };
  readonly finished: { replay: string; status: string; matched: number; queued: number; skipped: number; done: number } & Record<string, unknown>;
}

/** Polls GET /replays/:replay until the replay is finished; answers its view. */
export async function waitForReplay(harness: Pick<DashboardHarness, 'url'>, replay: string, timeoutMs = 15_000): Promise<FinishedReplay['finished']> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { body } = await adminRequest(`${harness.url}/replays/${replay}`);
    const view = body as FinishedReplay['finished'];
    if (view.status === 'finished') return view;
    if (Date.now() > deadline) throw new Error(`replay ${replay} did not finish: ${JSON.stringify(view)}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** POSTs a replay request to `path` and waits for the replay to finish. */
export async function replayAndWait(harness: Pick<DashboardHarness, 'url'>, path: string, body?: unknown): Promise<FinishedReplay> {
  const response = await adminRequest(`${harness.url}${path}`, { method: 'POST', ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  if (response.status !== 202) throw new Error(`the replay answered ${response.status}: ${JSON.stringify(response.body)}`);
  const started = response.body as FinishedReplay['started'];
  return { status: response.status, started, finished: await waitForReplay(harness, started.replay) };
}
