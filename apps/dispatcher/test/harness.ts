import { Writable } from 'node:stream';
import { newEventId } from '@fanout/core';
import type { Flow } from '@fanout/flows';
import { createLogger, createMetrics, type FanoutMetrics, type Logger } from '@fanout/observability';
import { createDeliveryQueues, type DeliveryQueues } from '@fanout/queues';
import { appendEvent, ensureDispatcherGroup, holdDispatchLease } from '@fanout/event-log';
import { DISPATCHER_GROUP, type FanoutKeys, type PartitionKeys } from '@fanout/redis';
import { createRedisFixture, TEST_DISPATCHER, testConnection, type RedisFixture } from '@fanout/testkit';
import type { Redis } from 'ioredis';
import { DEFAULT_MAX_DISPATCH_ATTEMPTS, flowPlans, startDispatcher, type DispatchBatchDeps, type Dispatcher, type DispatcherDeps } from '../src/index.js';

export interface LogLine {
  readonly level: number;
  readonly msg: string;
  readonly [field: string]: unknown;
}

/** pino's level number for `error`. */
export const ERROR_LEVEL = 50;

/** The event records' ttl the harness's ingress and dispatchers use, in ms. */
export const EVENT_RECORD_TTL_MS = 600_000;

/** One dispatcher test's Redis corner, delivery queues, metrics and captured log. */
export interface Harness {
  readonly fx: RedisFixture;
  readonly keys: FanoutKeys;
  /** The partition dispatched: the log's only one. */
  readonly partition: PartitionKeys;
  readonly queues: DeliveryQueues;
  readonly metrics: FanoutMetrics;
  readonly logger: Logger;
  readonly logs: LogLine[];
  findFlow(name: string): Flow | undefined;
  /** A new, connected `background` connection, disconnected by `close()`. */
  connection(): Promise<Redis>;
  /** Everything `startDispatcher` needs, with fresh connections and a 100 ms block. */
  deps(overrides?: Partial<DispatcherDeps>): Promise<DispatcherDeps>;
  /** Everything `dispatchBatch` needs, writing through the fixture's connection; holds the partition's lease as TEST_DISPATCHER (start no dispatcher beside it). */
  batchDeps(overrides?: Partial<DispatchBatchDeps>): Promise<DispatchBatchDeps>;
  /** Starts a dispatcher that `close()` stops. */
  start(overrides?: Partial<DispatcherDeps>): Promise<Dispatcher>;
  /** Appends an event to the stream as the ingress would. */
  append(flow: string, body: Buffer | object, contentType?: string): Promise<{ eventId: string; streamId: string }>;
  /** Entries of the stream read through the group and not acknowledged; NaN while the group does not exist. */
  pendingCount(): Promise<number>;
  close(): Promise<void>;
}

/** @param fixture Default: a fresh corner of the shared test Redis. */
export async function createHarness(flows: readonly Flow[], fixture?: RedisFixture): Promise<Harness> {
  const fx = fixture ?? (await createRedisFixture());
  const partition = fx.keys.partitions[0]!;
  // As a running dispatcher would have: tests read through the group before any dispatcher starts.
  await ensureDispatcherGroup(fx.redis, partition);
  const connections: Redis[] = [];
  // Connected before use: ioredis leaves its connect timer running when disconnected mid-connect,
  // which would keep Jest alive after a failed test.
  const connection = async (): Promise<Redis> => {
    const redis = testConnection(fx.url, 'dispatcher-test');
    connections.push(redis);
    // Failed commands reach the code that sent them; a dropped connection is expected in the restart test.
    redis.on('error', () => {});
    await redis.connect();
    return redis;
  };
  const queues = createDeliveryQueues({ flows, connection: await connection(), keys: fx.keys });
  const metrics = createMetrics();
  const logs: LogLine[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      logs.push(JSON.parse(chunk.toString()) as LogLine);
      done();
    },
  });
  const logger = createLogger({ level: 'debug', destination: sink });
  const byName = new Map(flows.map((flow) => [flow.name, flow]));
  const findFlow = (name: string): Flow | undefined => byName.get(name);
  const plans = flowPlans({ findFlow, redis: fx.redis, keys: fx.keys });
  // As `fanout start` gives it: the queue of any destination a plan names.
  const anyQueue = { get: (flow: string, destination: string) => queues.queueFor(flow, destination) };
  const dispatchers: Dispatcher[] = [];
  const deps = async (overrides: Partial<DispatcherDeps> = {}): Promise<DispatcherDeps> => ({
    plans,
    redis: await connection(),
    writer: await connection(),
    partition,
    queues: anyQueue,
    metrics,
    logger,
    consumer: 'dispatcher-a',
    blockMs: 100,
    leaseTtlMs: TEST_LEASE_TTL_MS,
    claimIdleMs: 30_000,
    streamRetentionMs: 3_600_000,
    eventRecordTtlMs: EVENT_RECORD_TTL_MS,
    ...overrides,
  });

  return {
    fx,
    keys: fx.keys,
    partition,
    queues,
    metrics,
    logger,
    logs,
    findFlow,
    connection,
    deps,
    async batchDeps(overrides = {}) {
      await holdDispatchLease(fx.redis, partition, TEST_DISPATCHER, TEST_LEASE_TTL_MS);
      return { plans, queues: anyQueue, writer: fx.redis, partition, metrics, logger, eventRecordTtlMs: EVENT_RECORD_TTL_MS, maxDispatchAttempts: DEFAULT_MAX_DISPATCH_ATTEMPTS, leaseToken: TEST_DISPATCHER, ...overrides };
    },
    async start(overrides) {
      const dispatcher = startDispatcher(await deps(overrides));
      dispatchers.push(dispatcher);
      return dispatcher;
    },
    async append(flow, body, contentType = 'application/json') {
      const eventId = newEventId();
      const bytes = Buffer.isBuffer(body) ? body : Buffer.from(JSON.stringify(body));
      // Stamped with the loaded flow's version, as the ingress stamps it; a flow not loaded has none.
      const flowVersion = findFlow(flow)?.version;
      const streamId = await appendEvent(fx.redis, partition, { id: eventId, flow, receivedAt: Date.now(), contentType, ...(flowVersion ? { flowVersion } : {}), body: bytes }, EVENT_RECORD_TTL_MS);
      return { eventId, streamId };
    },
    async pendingCount() {
      try {
        const [count] = (await fx.redis.xpending(partition.stream, DISPATCHER_GROUP)) as [number, ...unknown[]];
        return count;
      } catch (error) {
        // The group was destroyed, and no dispatcher has made it again yet.
        if (error instanceof Error && error.message.startsWith('NOGROUP')) return Number.NaN;
        throw error;
      }
    },
    async close() {
      await Promise.all(dispatchers.map((dispatcher) => dispatcher.stop()));
      await queues.close();
      for (const redis of connections) redis.disconnect();
      await fx.cleanup();
    },
  };
}

/**
 * The dispatch lease of the tests' dispatchers, and of the one `batchDeps` stands for: short,
 * so a dispatcher started after one that died (or after `batchDeps`) takes over quickly.
 */
export const TEST_LEASE_TTL_MS = 500;

/** Polls `condition` until it holds; fails with `what` after `timeoutMs`. */
export async function waitFor(what: string, condition: () => Promise<boolean> | boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`waited ${timeoutMs} ms for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** How many jobs the queue of a destination holds in any state. */
export async function jobCount(queues: DeliveryQueues, flow: string, destination: string): Promise<number> {
  const counts = await queues.queueFor(flow, destination).getJobCounts();
  return Object.values(counts).reduce((sum, count) => sum + count, 0);
}

/** The value of a counter for one label set, 0 when never incremented. */
export async function counterValue(counter: FanoutMetrics['dispatchedJobs'] | FanoutMetrics['deliveries'], labels: Record<string, string>): Promise<number> {
  const { values } = await counter.get();
  return values.find((value) => Object.entries(labels).every(([name, label]) => (value.labels as Record<string, unknown>)[name] === label))?.value ?? 0;
}
