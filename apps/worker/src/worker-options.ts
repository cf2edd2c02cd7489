import { longestAttemptMs, type Destination } from '@fanout/flows';
import type { FanoutKeys } from '@fanout/redis';
import type { WorkerOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import { retryBackoff } from './retry-backoff.js';

/**
 * How the workers notice a job whose worker died mid-attempt (SIGKILL, OOM, a lost node) and
 * run it again: BullMQ's stalled-job check. Such a job is taken up again within
 * lockDuration + 2 × stalledInterval of its worker's death: its lock must expire, and a check
 * must first see it active and then, at the next check, without a lock.
 */
export interface StallOptions {
  /**
   * The shortest job lock, in ms (FANOUT_WORKER_LOCK). A destination whose longest attempt
   * (its timeout, plus a batch's maxWait) is more than half of it gets a lock of twice that. Shorter locks take crashed jobs up sooner
   * but are lost in shorter Redis outages or event-loop stalls, and a lost lock runs an attempt
   * twice at once.
   */
  readonly minLockDurationMs: number;
  /**
   * How often each queue is checked for stalled jobs, in ms (FANOUT_STALLED_INTERVAL). Cheap:
   * one script per queue per interval, whatever the number of workers (the check takes a lock
   * for the interval); it only decides how soon a crash is noticed.
   */
  readonly stalledIntervalMs: number;
  /**
   * How many stalls a job survives; at the next one BullMQ fails it, and it is dead-lettered
   * (and replayable). Default MAX_STALLED_COUNT.
   */
  readonly maxStalledCount?: number;
  /**
   * The lock and the stalled check of an ordered destination's jobs, in ms: while its first
   * delivery's worker is dead, its whole line waits, so a crash is noticed sooner (a job is
   * taken up again within lock + 2 × stalled interval) at the price of a repeated attempt
   * when a lock renewal is late by half the lock. Default ORDERED_STALL.
   */
  readonly ordered?: { readonly lockDurationMs: number; readonly stalledIntervalMs: number };
}

/** An ordered destination's recovery after its worker dies: within 5 s + 2 × 1 s. */
export const ORDERED_STALL = { lockDurationMs: 5_000, stalledIntervalMs: 1_000 } as const;

/**
 * A stall is a worker that died mid-attempt, or a lock lost in a Redis outage: not the
 * destination's fault, and it spends no retry (see deliver). BullMQ's default of 1 would
 * dead-letter a delivery caught in two such accidents; a job in flight at every one of four
 * worker deaths is more likely their cause (it kills its worker), and is failed.
 */
export const MAX_STALLED_COUNT = 3;

export interface DeliveryWorkerOptionsInput {
  readonly destination: Destination;
  /** Shared by the workers; BullMQ duplicates it for its blocking reads. */
  readonly connection: Redis;
  readonly keys: FanoutKeys;
  readonly stall: StallOptions;
}

/** The BullMQ options of the worker of one destination queue, from the destination's policy. */
export function deliveryWorkerOptions({ destination, connection, keys, stall }: DeliveryWorkerOptionsInput): WorkerOptions {
  const { minLockDurationMs, stalledIntervalMs, maxStalledCount = MAX_STALLED_COUNT, ordered = ORDERED_STALL } = stall;
  const isOrdered = destination.ordering !== 'none';
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
    // An attempt lasts its timeout, and a batched one its wait in the batch before that.
    lockDuration: isOrdered ? ordered.lockDurationMs : Math.max(minLockDurationMs, 2 * longestAttemptMs(destination)),
    stalledInterval: isOrdered ? ordered.stalledIntervalMs : stalledIntervalMs,
    maxStalledCount,
    settings: { backoffStrategy: retryBackoff(destination.retry.backoff) },
  };
}
