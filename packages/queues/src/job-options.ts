import type { PlannedDestination } from '@fanout/flows';
import type { JobsOptions } from 'bullmq';

/** Completed jobs kept for Bull Board, the newest 100 of the last hour (about 1.5 KB each: BullMQ keeps them as hashtables); their deliveries' records say all the rest. */
export const COMPLETED_JOBS_KEPT = { age: 3_600, count: 100 } as const;

/**
 * Entries of BullMQ's own events stream kept per queue (BullMQ keeps 10,000 by default, about
 * 1 MB a queue): fanout listens to no queue events, so a few for troubleshooting are enough.
 */
export const QUEUE_EVENTS_KEPT = 100;

/** The name under which workers register the backoff that implements the destination's policy. */
export const DELIVERY_BACKOFF = 'fanout';

/**
 * Options of one delivery job, from its destination's policy. The failed set is the
 * destination's dead-letter queue, so failed jobs are kept for `deadLetter.retention`. No
 * stack traces: a delivery's failure is the destination's answer, kept once in its attempt
 * log, not where in fanout the error was thrown.
 */
export function deliveryJobOptions(destination: Pick<PlannedDestination, 'retry' | 'deadLetter'>, eventId: string): JobsOptions {
  return {
    jobId: eventId,
    attempts: destination.retry.attempts,
    backoff: { type: DELIVERY_BACKOFF },
    removeOnComplete: COMPLETED_JOBS_KEPT,
    removeOnFail: { age: Math.ceil(destination.deadLetter.retentionMs / 1_000) },
    stackTraceLimit: 0,
  };
}
