import type { DeliveryJob, DeliveryQueue } from '@fanout/queues';
import type { Job } from 'bullmq';
import { isoTime } from './iso-time.js';

/** One dead-lettered delivery of a destination, as the admin API lists it. */
export interface DeadLetter {
  readonly eventId: string;
  readonly failedReason: string;
  /** Attempts made before the delivery was dead-lettered. */
  readonly attempts: number;
  /** ISO 8601; absent only for a job BullMQ failed without a finish time. */
  readonly failedAt?: string;
  /** ISO 8601, when the ingress accepted the event. */
  readonly receivedAt: string;
}

export interface DeadLetterPageRequest {
  /** Dead letters per page. */
  readonly limit: number;
  /** Dead letters skipped, newest first. */
  readonly offset: number;
}

export interface DeadLetterPage {
  readonly items: DeadLetter[];
  /** Dead letters of the destination in all. */
  readonly total: number;
  readonly limit: number;
  readonly offset: number;
  /** The offset of the next page; null on the last one. */
  readonly nextOffset: number | null;
}

function toDeadLetter(job: Job<DeliveryJob>): DeadLetter {
  return {
    eventId: job.data.eventId,
    failedReason: job.failedReason,
    attempts: job.attemptsMade,
    ...(job.finishedOn === undefined ? {} : { failedAt: isoTime(job.finishedOn) }),
    receivedAt: isoTime(job.data.receivedAt),
  };
}

/** A page of a destination's dead letters (its queue's failed set), newest first. */
export async function listDeadLetters(queue: DeliveryQueue, { limit, offset }: DeadLetterPageRequest): Promise<DeadLetterPage> {
  const [total, jobs] = await Promise.all([queue.getFailedCount(), queue.getFailed(offset, offset + limit - 1)]);
  const end = offset + jobs.length;
  return { items: jobs.map(toDeadLetter), total, limit, offset, nextOffset: jobs.length > 0 && end < total ? end : null };
}
