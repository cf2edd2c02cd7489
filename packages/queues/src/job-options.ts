import type { PlannedDestination } from '@fanout/flows';
import type { JobsOptions } from 'bullmq';

/** Completed jobs kept for Bull Board; older ones are removed by BullMQ. Their deliveries' records say all the rest. */
export const COMPLETED_JOBS_KEPT = { age: 3_600, count: 1_000 } as const;

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
