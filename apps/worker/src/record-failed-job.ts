import { deliveryJobSchema } from '@fanout/queues';
import { readDeadLetterEvent, readDeliveryRecord, readEvent, writeDeliveryOutcome, type DeliveryRecord } from '@fanout/redis';
import type { Job } from 'bullmq';
import { DeadLetterError } from './dead-letter-error.js';
import type { DeliverDeps, DeliveryTarget } from './deliver.js';

/**
 * Makes the record of a delivery that BullMQ failed by itself say `dead` too, closes the
 * delivery and keeps a copy of its event for replay, as `deliver` does for its own dead
 * letters. BullMQ fails a job by itself when it stalled more often than `maxStalledCount`
 * (without running `deliver` again), or when `deliver` threw something else than its own
 * errors on the last attempt (Redis failed before the attempt was recorded). For the worker's
 * `failed` event, which also fires for failures BullMQ retries: those are left alone.
 */
export async function recordFailedJob(deps: Omit<DeliverDeps, 'shutdown'>, target: DeliveryTarget, job: Job<unknown>, error: Error): Promise<void> {
  if (error instanceof DeadLetterError || job.finishedOn === undefined) return;
  const parsed = deliveryJobSchema.safeParse(job.data);
  // A malformed job names no delivery to record.
  if (!parsed.success) return;
  const { eventId, streamId } = parsed.data;
  const destination = target.destination.name;
  const [record, streamed] = await Promise.all([readDeliveryRecord(deps.redis, deps.keys, eventId, destination), readEvent(deps.redis, deps.keys, streamId)]);
  const event = streamed ?? (await readDeadLetterEvent(deps.redis, deps.keys, eventId));
  // A deferred failure (stalled too often) fails the job as it starts: that start was no attempt.
  const attempts = Math.max(record?.attempts ?? 0, job.attemptsStarted - (job.deferredFailure ? 1 : 0));
  const dead: DeliveryRecord = { ...record, status: 'dead', attempts, lastError: error.message, updatedAt: deps.now() };

  const deadLetterCopy = event ? { deadLetterCopy: { event, retentionMs: target.destination.deadLetter.retentionMs } } : {};
  await writeDeliveryOutcome(deps.redis, deps.keys, { eventId, destination, record: dead, ...deadLetterCopy }, deps.recordTtlMs);
  deps.metrics.deliveries.inc({ flow: target.flow, destination, outcome: 'dead' });
  deps.logger.warn({ eventId, flow: target.flow, destination, attempts, error: error.message }, 'delivery.dead_lettered');
}
