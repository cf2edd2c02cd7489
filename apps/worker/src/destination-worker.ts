import { recordJobFailure, refOf, releaseJob, type DeliveryState } from '@fanout/delivery';
import type { DestinationRegistry } from '@fanout/destinations';
import type { Logger } from '@fanout/observability';
import { openDeliveryQueue, type DeliveryJob, type DeliveryQueue, type DestinationQueue } from '@fanout/queues';
import type { FanoutKeys } from '@fanout/redis';
import { Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { deliver, type DeliverDeps, type DeliveryMetrics } from './deliver.js';
import { untilWritten } from './until-written.js';
import { deliveryWorkerOptions, type StallOptions } from './worker-options.js';

/** What every destination worker of a process shares. */
export interface DestinationWorkerDeps {
  readonly connection: Redis;
  readonly keys: FanoutKeys;
  readonly state: DeliveryState;
  readonly destinations: DestinationRegistry;
  readonly metrics: DeliveryMetrics;
  readonly logger: Logger;
  readonly stall: StallOptions;
  readonly deliver: DeliverDeps;
  /** Dead letters of jobs BullMQ failed by itself, still being written; a stop waits for them with the attempts in flight. */
  readonly recording: Set<Promise<void>>;
}

/** One destination served by this process: its queue and its BullMQ worker. */
export interface DestinationWorker extends DestinationQueue {
  readonly queue: DeliveryQueue;
  readonly worker: Worker<unknown, void>;
  /** Resolves once the worker is connected and the queue's global concurrency is set. */
  readonly ready: Promise<void>;
}

/** Starts the BullMQ worker of one destination queue. */
export function startDestinationWorker(deps: DestinationWorkerDeps, { name, flow, destination }: DestinationQueue): DestinationWorker {
  const { state, metrics, logger } = deps;
  const queue = openDeliveryQueue(name, deps.connection, deps.keys.bullPrefix);
  // One delivery in flight per line is the lines' doing; how many lines at once, across every
  // worker process, is the queue's global concurrency. A destination no longer ordered loses it.
  const configured = destination.ordering === 'none' ? queue.removeGlobalConcurrency() : queue.setGlobalConcurrency(destination.concurrency);
  const target = { flow: flow.name, destination, client: deps.destinations.clientFor(destination), queue };
  const worker = new Worker<unknown, void>(name, (job, token) => deliver(deps.deliver, target, job, token), deliveryWorkerOptions({ destination, connection: deps.connection, keys: deps.keys, stall: deps.stall }));
  // Without a listener an 'error' event (Redis gone, a failed lock renewal) would crash the process.
  worker.on('error', (error) => logger.error({ err: error, queue: name }, 'worker.error'));
  worker.on('failed', (job, error) => {
    if (!job) return;
    const about = { eventId: job.id ?? '', flow: flow.name, destination: destination.name, transition: 'deadLetter' };
    const written = { logger, metrics, shutdown: deps.deliver.shutdown };
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
      .finally(() => deps.recording.delete(recorded));
    deps.recording.add(recorded);
  });
  const ready = Promise.all([configured, worker.waitUntilReady()]).then(() => {});
  // Handled by whoever awaits it; a worker started by a reload is not awaited.
  ready.catch(() => {});
  return { name, flow, destination, queue, worker, ready };
}
