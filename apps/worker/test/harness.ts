import { Writable } from 'node:stream';
import { newEventId } from '@fanout/core';
import { DELIVERY_SCRIPTS, deliveryState, destinationHealth, readDeliveryRecord, startReplayer, type DeliveryRecord, type DestinationHealth, type Replays } from '@fanout/delivery';
import { createDestinationRegistry } from '@fanout/destinations';
import { appendEvent } from '@fanout/event-log';
import type { Destination, Flow, HttpDestination } from '@fanout/flows';
import { createLogger, createMetrics, type FanoutMetrics } from '@fanout/observability';
import { createDeliveryQueues, deliveryJob, deliveryQueueName, orderLineName, type DeliveryQueue, type DeliveryQueues } from '@fanout/queues';
import { createRedisConnection, type FanoutKeys } from '@fanout/redis';
import { ALL_SCRIPTS, createRedisFixture, recordAsDispatched, startReceiver, type RedisFixture, type ScriptedReceiver } from '@fanout/testkit';
import { startWorkers, type DeliveryWorkers, type LineSweepOptions, type RetireOptions, type StallOptions } from '@fanout/worker';
import type { Redis } from 'ioredis';

const RECORD_TTL_MS = 600_000;

/** The product's stall settings (FANOUT_WORKER_LOCK, FANOUT_STALLED_INTERVAL defaults). */
export const PRODUCT_STALL: StallOptions = { minLockDurationMs: 30_000, stalledIntervalMs: 10_000 };

/** A worker process in miniature: real Redis, real receiver, real BullMQ queues and workers, for one flow. */
export interface Harness {
  readonly flow: Flow;
  /** The flow's destination of that name. */
  destination(name: string): HttpDestination;
  readonly receiver: ScriptedReceiver;
  readonly redis: Redis;
  readonly keys: FanoutKeys;
  /** The workers started with the harness. */
  readonly workers: DeliveryWorkers;
  /** Starts another set of workers on the same flows, as a second process would; closed with the harness. */
  startMoreWorkers(): Promise<DeliveryWorkers>;
  readonly metrics: FanoutMetrics;
  /** The replay engine the workers start a breaker's redrive on, as `fanout start` runs one beside them. */
  readonly replays: Replays;
  /** The destinations' health (breaker state, pause), as every worker process shares it. */
  readonly health: DestinationHealth;
  /** Every line the workers logged, parsed. */
  readonly logLines: Record<string, unknown>[];
  queue(destination: Destination): DeliveryQueue;
  /** Stores an event as the ingress does and dispatches it to each destination (records, then jobs) as the dispatcher does; returns the event id. */
  publish(destinations: readonly Destination[], body?: Buffer, contentType?: string): Promise<string>;
  /** Resolves with the delivery record once `accept` takes it; rejects after `timeoutMs`. */
  waitForRecord(eventId: string, destination: Destination, accept: (record: DeliveryRecord) => boolean, timeoutMs?: number): Promise<DeliveryRecord>;
  /** Resolves once the delivery's job is in `state`; rejects after `timeoutMs`. BullMQ moves a job after its attempt is recorded and logged. */
  waitForJobState(destination: Destination, eventId: string, state: 'completed' | 'failed' | 'delayed', timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

export interface HarnessOptions {
  /** The flow under test, given the receiver's base URL. */
  flow(receiverUrl: string): Flow;
  /** Where the harness keeps its keys. Default: a fresh prefix on the shared test Redis. */
  redis?: Pick<RedisFixture, 'url' | 'keys' | 'cleanup'>;
  /** How stalled jobs are taken up. Default the product's. */
  stall?: StallOptions;
  /** How often expired dead letters are removed, ms. Default the product's (60 s). */
  deadLetterSweepEveryMs?: number;
  /** How ordered destinations' lines are swept. Default the product's. */
  lineSweep?: LineSweepOptions;
  /** How often the workers look at each destination's state, ms. Default the product's (1 s). */
  gateWatchEveryMs?: number;
  /** When a removed destination's worker stops. Default the product's. */
  retire?: RetireOptions;
}

export async function startHarness(options: HarnessOptions): Promise<Harness> {
  const fixture = options.redis ?? (await createRedisFixture());
  const { url, keys } = fixture;
  const receiver = await startReceiver();
  const flow = options.flow(receiver.url);
  const flows = [flow];
  const redis = createRedisConnection(url, { purpose: 'background', name: 'worker-test', scripts: ALL_SCRIPTS });
  // As in `fanout start`: records on an auto-pipelined connection of their own.
  const records = createRedisConnection(url, { purpose: 'background', name: 'worker-test-records', scripts: [DELIVERY_SCRIPTS], autoPipelining: true });
  const queues: DeliveryQueues = createDeliveryQueues({ flows, connection: redis, keys });
  const metrics = createMetrics();
  const logLines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      logLines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      done();
    },
  });
  const destinations = createDestinationRegistry();
  const state = deliveryState({ redis: records, keys, attemptLogTtlMs: RECORD_TTL_MS, now: Date.now });
  const logger = createLogger({ destination: sink });
  const replays = startReplayer({ redis, keys, queues, state, logger });
  const started: DeliveryWorkers[] = [];
  const startMoreWorkers = async (): Promise<DeliveryWorkers> => {
    const workers = startWorkers({ flows, connection: redis, keys, state, destinations, metrics, logger, replays, ...(options.stall ?? PRODUCT_STALL), ...(options.deadLetterSweepEveryMs ? { deadLetterSweepEveryMs: options.deadLetterSweepEveryMs } : {}), ...(options.lineSweep ? { lineSweep: options.lineSweep } : {}), ...(options.retire ? { retire: options.retire } : {}), ...(options.gateWatchEveryMs ? { gateWatchEveryMs: options.gateWatchEveryMs } : {}) });
    started.push(workers);
    await workers.waitUntilReady();
    return workers;
  };
  const workers = await startMoreWorkers();

  // Any destination's, in the flow or not: a reload adds and removes destinations.
  const queue = (destination: Destination): DeliveryQueue => queues.queueFor(flow.name, destination.name);

  return {
    flow,
    destination(name) {
      const found = flow.destinations.find((candidate) => candidate.name === name);
      if (found?.type !== 'http') throw new Error(`flow ${flow.name} has no http destination ${name}`);
      return found;
    },
    receiver,
    redis,
    keys,
    workers,
    startMoreWorkers,
    metrics,
    replays,
    health: destinationHealth({ redis, keys, now: Date.now }),
    logLines,
    queue,
    async publish(destinations, body = Buffer.from('{"type":"payment.succeeded"}'), contentType = 'application/json') {
      const eventId = newEventId();
      const receivedAt = Date.now();
      const partition = keys.partitionOf(eventId);
      const streamId = await appendEvent(redis, partition, { id: eventId, flow: flow.name, receivedAt, contentType, body }, RECORD_TTL_MS);
      // An ordered destination's delivery joins its line (fifo's one line: these tests order by no key), and gets a job only if first.
      const lineOf = (destination: Destination): string | undefined => (destination.ordering === 'none' ? undefined : orderLineName(deliveryQueueName(flow.name, destination.name), ''));
      const [statuses] = await recordAsDispatched(
        redis,
        partition,
        [{ eventId, flow: flow.name, receivedAt, streamId, destinations: new Map(destinations.map((destination) => [destination.name, lineOf(destination) === undefined ? true : { line: lineOf(destination)! }])) }],
        RECORD_TTL_MS,
        receivedAt,
      );
      for (const destination of destinations) {
        if (statuses?.get(destination.name) !== 'pending') continue;
        const line = lineOf(destination);
        const { name, data, opts } = deliveryJob(destination, { eventId, streamId, flow: flow.name, receivedAt, ...(line === undefined ? {} : { line }) });
        await queue(destination).add(name, data, opts);
      }
      return eventId;
    },
    async waitForRecord(eventId, destination, accept, timeoutMs = 10_000) {
      const accepted = (found: DeliveryRecord | undefined): found is DeliveryRecord => found !== undefined && accept(found);
      return pollUntil(() => readDeliveryRecord(redis, keys.partitionOf(eventId), eventId, destination.name), accepted, timeoutMs, `the record of ${eventId} → ${destination.name}`);
    },
    async waitForJobState(destination, eventId, state, timeoutMs = 10_000) {
      await pollUntil(() => queue(destination).getJobState(eventId), (current): current is typeof state => current === state, timeoutMs, `the state of job ${eventId} in ${flow.name}.${destination.name}`);
    },
    async close() {
      await Promise.all(started.map((running) => running.stop(1_000)));
      await replays.stop();
      await destinations.close();
      await receiver.close();
      await queues.close();
      await fixture.cleanup();
      redis.disconnect();
      records.disconnect();
    },
  };
}

/** Reads until `accept` takes what was read; rejects after `timeoutMs` with the last value read. */
async function pollUntil<T, Accepted extends T>(read: () => Promise<T>, accept: (value: T) => value is Accepted, timeoutMs: number, what: string): Promise<Accepted> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (accept(value)) return value;
    if (Date.now() > deadline) throw new Error(`${what} was not as expected within ${timeoutMs} ms; last: ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

export const isSettled = (record: DeliveryRecord): boolean => record.status === 'delivered' || record.status === 'dead';
