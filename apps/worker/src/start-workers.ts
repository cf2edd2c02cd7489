import { setMaxListeners } from 'node:events';
import { destinationHealth, recordJobFailure, refOf, releaseJob, type DeliveryState } from '@fanout/delivery';
import type { DestinationRegistry } from '@fanout/destinations';
import type { Flow } from '@fanout/flows';
import type { Logger } from '@fanout/observability';
import { destinationQueues, openDeliveryQueue, type DeliveryJob } from '@fanout/queues';
import type { FanoutKeys } from '@fanout/redis';
import { Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { startDeadLetterRetention } from './dead-letter-retention.js';
import { LINE_SWEEP, startLineSweep, type LineSweepOptions } from './line-sweep.js';
import { deliver, type DeliverDeps, type DeliveryMetrics } from './deliver.js';
import { startDestinationGate } from './destination-gate.js';
import { settlesWithin } from './settles-within.js';
import { untilWritten } from './until-written.js';
import { deliveryWorkerOptions, type StallOptions } from './worker-options.js';

/** What the workers need: the delivery state, a client per destination, the flows and BullMQ's connection. */
export interface WorkerDeps extends StallOptions {
  /** The loaded flows: one BullMQ worker per destination. */
  readonly flows: readonly Flow[];
  /** BullMQ's connection, shared by every worker (each duplicates it for its blocking reads); needs `maxRetriesPerRequest: null`, and DELIVERY_SCRIPTS (the destinations' health outside attempts). The caller closes it. */
  readonly connection: Redis;
  readonly keys: FanoutKeys;
  readonly state: DeliveryState;
  readonly destinations: DestinationRegistry;
  readonly metrics: DeliveryMetrics;
  readonly logger: Logger;
  /** Unix ms. Default `Date.now`. */
  readonly now?: () => number;
  /** How often dead letters past their destination's retention are removed, in ms. Default 60000. */
  readonly deadLetterSweepEveryMs?: number;
  /** How often the lines of ordered destinations are looked at for one stuck without a job, and after how long without moving a line counts as stuck, in ms. Default LINE_SWEEP. */
  readonly lineSweep?: LineSweepOptions;
  /** How often each destination's state is looked at (a breaker's cooldown ending, its queue's pause kept in step), ms. Default 1000. */
  readonly gateWatchEveryMs?: number;
}

export interface DeliveryWorkers {
  /** Resolves once every worker is connected. */
  waitUntilReady(): Promise<void>;
  /**
   * Takes no more jobs and waits up to `graceMs` (ms) for the attempts in flight to finish and
   * be recorded. Attempts still in flight then end and their jobs go back to their queue,
   * handed back with no retry spent; within HANDBACK_MS more the workers close by force,
   * so stop returns also when a destination or Redis does not answer. A job that could not be
   * handed back (Redis unreachable) stays active until its lock expires and the stalled check
   * of a live worker runs it again.
   */
  stop(graceMs: number): Promise<void>;
}

/** How long a stop waits, after grace, for cut-short attempts' jobs to be handed back: a Redis round trip or two. */
export const HANDBACK_MS = 1_000;

/** Starts one BullMQ worker per destination queue of the flows; they deliver until stopped. */
export function startWorkers(deps: WorkerDeps): DeliveryWorkers {
  const shutdown = new AbortController();
  // Every attempt in flight, across all destinations, listens on it.
  setMaxListeners(0, shutdown.signal);
  const { state, metrics, logger, now = Date.now } = deps;
  // Dead letters of jobs BullMQ failed by itself, still being written; a stop waits for them with the attempts in flight.
  const recording = new Set<Promise<void>>();
  const served = destinationQueues(deps.flows).map((queue) => ({ ...queue, queue: openDeliveryQueue(queue.name, deps.connection, deps.keys.bullPrefix) }));
  const gate = startDestinationGate({
    health: destinationHealth({ redis: deps.connection, keys: deps.keys, now }),
    state,
    served: served.map(({ name, flow, destination, queue }) => ({ name, flow: flow.name, destination, queue })),
    logger,
    everyMs: deps.gateWatchEveryMs ?? 1_000,
    now,
  });
  const deliverDeps: DeliverDeps = { state, metrics, logger, now, shutdown: shutdown.signal, gate };
  // One delivery in flight per line is the lines' doing; how many lines at once, across every
  // worker process, is the queue's global concurrency. A destination no longer ordered loses it.
  const configured = Promise.all(served.map(({ queue, destination }) => (destination.ordering === 'none' ? queue.removeGlobalConcurrency() : queue.setGlobalConcurrency(destination.concurrency))));
  configured.catch(() => {});
  const retention = startDeadLetterRetention(
    served.map(({ queue, destination }) => ({ queue, retentionMs: destination.deadLetter.retentionMs })),
    deps.deadLetterSweepEveryMs ?? 60_000,
    logger,
  );
  const lines = startLineSweep({ state, keys: deps.keys, redis: deps.connection, served: served.filter(({ destination }) => destination.ordering !== 'none'), options: deps.lineSweep ?? LINE_SWEEP, logger });
  const workers = served.map(({ name, flow, destination, queue }) => {
    const target = { name, flow: flow.name, destination, client: deps.destinations.clientFor(destination), queue };
    const worker = new Worker<unknown, void>(name, (job, token) => deliver(deliverDeps, target, job, token), deliveryWorkerOptions({ destination, connection: deps.connection, keys: deps.keys, stall: deps }));
    // Without a listener an 'error' event (Redis gone, a failed lock renewal) would crash the process.
    worker.on('error', (error) => logger.error({ err: error, queue: name }, 'worker.error'));
    worker.on('failed', (job, error) => {
      if (!job) return;
      const about = { eventId: job.id ?? '', flow: flow.name, destination: destination.name, transition: 'deadLetter' };
      const written = { logger, metrics, shutdown: shutdown.signal };
      const recorded = untilWritten(written, about, () => recordJobFailure(state, job, error, destination.deadLetter.retentionMs))
        .then(async (settled) => {
          if (settled === undefined) return;
          metrics.deliveries.inc({ flow: flow.name, destination: destination.name, outcome: 'dead' });
          logger.warn({ eventId: job.id, flow: flow.name, destination: destination.name, error: error.message, status: settled.status }, 'delivery.dead_lettered');
          const { line } = refOf(job.data as DeliveryJob);
          const { next } = settled;
          if (line && next) await untilWritten(written, { ...about, transition: 'release' }, () => releaseJob(state, queue, destination, flow.name, line, next));
        })
        .catch((failure: unknown) => logger.error({ err: failure, queue: name, jobId: job.id }, 'worker.record_failed_job_failed'))
        .finally(() => recording.delete(recorded));
      recording.add(recorded);
    });
    return worker;
  });

  return {
    waitUntilReady: async () => void (await Promise.all([configured, ...workers.map((worker) => worker.waitUntilReady())])),
    async stop(graceMs) {
      retention.stop();
      lines.stop();
      gate.stop();
      // pause() stops fetching and waits for the jobs in flight, BullMQ's own completion
      // included. Not close(): BullMQ memoizes it, so a graceful close could not be forced later.
      const drained = Promise.allSettled(workers.map((worker) => worker.pause())).then(() => Promise.allSettled(recording));
      // Attempts waiting in a batch would otherwise wait out its maxWait, and nothing more will join.
      deps.destinations.drain();
      if (!(await settlesWithin(drained, graceMs))) {
        shutdown.abort();
        await settlesWithin(drained, HANDBACK_MS);
      }
      // Forced, close neither waits for jobs nor talks to Redis; a closed worker also leaves
      // alone a job whose hand-back is still waiting on Redis, instead of retrying it.
      await Promise.allSettled(workers.map((worker) => worker.close(true)));
      await Promise.allSettled(served.map(({ queue }) => queue.close()));
    },
  };
}
