import type { Destination } from '@fanout/flows';
import type { FanoutKeys } from '@fanout/redis';
import type { WorkerOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import { retryBackoff } from './retry-backoff.js';

/** The shortest job lock, BullMQ's default. */
const MIN_LOCK_DURATION_MS = 30_000;

export interface DeliveryWorkerOptionsInput {
  readonly destination: Destination;
  /** Shared by the workers; BullMQ duplicates it for its blocking reads. */
  readonly connection: Redis;
  readonly keys: FanoutKeys;
}

/** The BullMQ options of the worker of one destination queue, from the destination's policy. */
export function deliveryWorkerOptions({ destination, connection, keys }: DeliveryWorkerOptionsInput): WorkerOptions {
  return {
    connection,
    prefix: keys.bullPrefix,
    concurrency: destination.concurrency,
    // BullMQ keeps the limiter's window per queue, so with one queue per destination it holds
    // across every worker process, not per process.
    ...(destination.rateLimit ? { limiter: { max: destination.rateLimit.max, duration: destination.rateLimit.perMs } } : {}),
    // A lock is renewed every lockDuration / 2. It must still outlive a whole attempt when a
    // renewal is missed (a Redis blip, a busy event loop): an expired lock lets the stalled
    // check hand the job to another worker while this attempt is in flight, and the
    // destination gets the same attempt twice. Longer locks only delay recovery after a crash.
    lockDuration: Math.max(MIN_LOCK_DURATION_MS, 2 * destination.timeoutMs),
    // A stall is a worker that died mid-attempt, not the destination's fault. BullMQ's default
    // of 1 would dead-letter a delivery whose workers were killed twice; a job that kills its
    // worker as often as it may be attempted is treated as out of attempts.
    maxStalledCount: destination.retry.attempts,
    settings: { backoffStrategy: retryBackoff(destination.retry.backoff) },
  };
}
