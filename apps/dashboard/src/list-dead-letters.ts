import type { DeliveryJob, DeliveryQueue } from '@fanout/queues';
import type { Job } from 'bullmq';
import { z } from 'zod';
import { isoTime, isoTimeSchema } from './iso-time.js';

/** One dead-lettered delivery of a destination, as the admin API lists it. */
export const deadLetterSchema = z.object({
  eventId: z.string(),
  failedReason: z.string(),
  attempts: z.int().min(0).meta({ description: 'Attempts made before the delivery was dead-lettered.' }),
  failedAt: isoTimeSchema.optional().meta({ description: 'Absent only for a job BullMQ failed without a finish time.' }),
  receivedAt: isoTimeSchema.meta({ description: 'When the ingress accepted the event.' }),
});
export type DeadLetter = z.output<typeof deadLetterSchema>;

export interface DeadLetterPageRequest {
  /** Dead letters per page. */
  readonly limit: number;
  /** Dead letters skipped, newest first. */
  readonly offset: number;
}

/** A page of dead letters, newest first. */
export const deadLetterPageSchema = z.object({
  items: z.array(deadLetterSchema),
  total: z.int().min(0).meta({ description: 'Dead letters of the destination in all.' }),
  limit: z.int(),
  offset: z.int(),
  nextOffset: z.int().nullable().meta({ description: 'The offset of the next page; null on the last one.' }),
});
export type DeadLetterPage = z.output<typeof deadLetterPageSchema>;

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
