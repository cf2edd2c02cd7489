import type { PlannedDestination } from '@fanout/flows';
import { deliveryJob, deliveryJobSchema, deliveryQueueName, type DeliveryJob, type DeliveryQueue } from '@fanout/queues';
import { DelayedError, ErrorCode, type Job } from 'bullmq';
import { DeadLetterError, JobRefusedError } from './job-outcomes.js';
import type { DeliveryRef, DeliveryState, LineHead, Settlement } from './transitions.js';

/**
 * What BullMQ does to a job, by itself or through Bull Board, mapped onto the delivery's
 * transitions: the one place that reads a job's BullMQ fields (attemptsMade, finishedOn, the
 * stall count) or moves a job for the delivery's sake.
 */

export type JobDelivery = { readonly ok: true; readonly delivery: DeliveryJob } | { readonly ok: false; readonly reason: string };

/** The delivery a job stands for: its data as the dispatcher builds it, under the job id and in the queue the dispatcher gives it. */
export function deliveryOfJob(job: Job<unknown>): JobDelivery {
  const parsed = deliveryJobSchema.safeParse(job.data);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((issue) => `${issue.path.join('.') || '(data)'}: ${issue.message}`).join('; ');
    return { ok: false, reason: `not a delivery job: ${issues}` };
  }
  const delivery = parsed.data;
  if (job.id !== delivery.eventId) return { ok: false, reason: `a delivery job's id is its event id; job ${job.id ?? '?'} names event ${delivery.eventId} (a copy)` };
  const queue = deliveryQueueName(delivery.flow, delivery.destination);
  if (job.queueName !== queue) return { ok: false, reason: `job in queue ${job.queueName} names destination ${delivery.destination} of flow ${delivery.flow}` };
  return { ok: true, delivery };
}

/** Whether the retry policy allows no attempt after the one starting now (BullMQ retries while attemptsMade + 1 < attempts). */
export function isLastAttempt(job: Job<unknown>): boolean {
  return job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
}

/**
 * BullMQ failed a job for good by itself: it stalled more often than maxStalledCount (and
 * failed as it started again, without an attempt), or an error other than fanout's own
 * outcomes (Redis failing before the outcome was recorded) ended its last attempt. The
 * delivery is dead-lettered as fanout's own dead letters are. For the worker's `failed`
 * event, which fires for failures BullMQ retries too: those, and fanout's own, are left alone.
 */
export async function recordJobFailure(state: DeliveryState, job: Job<unknown>, error: Error, retentionMs: number): Promise<Settlement | undefined> {
  if (error instanceof DeadLetterError || error instanceof JobRefusedError || job.finishedOn === undefined) return undefined;
  const found = deliveryOfJob(job);
  if (!found.ok) return undefined;
  return state.deadLetter(refOf(found.delivery), { error: error.message, retentionMs });
}

/** The delivery a job's data names, with its line at an ordered destination. */
export function refOf({ eventId, destination, line }: DeliveryJob): DeliveryRef {
  return line === undefined ? { eventId, destination } : { eventId, destination, line };
}

export type ReplayOutcome = 'replayed' | 'not-replayable' | 'gone';

function leftItsSet(error: unknown): boolean {
  const code = typeof error === 'object' && error !== null && 'code' in error ? error.code : undefined;
  return code === ErrorCode.JobNotExist || code === ErrorCode.JobNotInState;
}

/**
 * Replays the delivery of a failed (dead-lettered) or completed job: its record goes back to
 * pending (the `replay` transition), then BullMQ moves the job back to waiting under the
 * same job id (so the same `webhook-id`) with a fresh set of attempts and stall count;
 * attempt numbers go on from where they were. The record is set first: while the job sits in
 * its finished set no worker writes the record, whereas once it waits one may record a newer
 * status first. A failed job whose record did not get to say dead (that write failed) is
 * retried as well. `gone`: the job left the set meanwhile (replayed by someone else, removed
 * after its retention).
 */
export async function replayJob(state: DeliveryState, queue: DeliveryQueue, job: Job<unknown>, from: 'failed' | 'completed'): Promise<ReplayOutcome> {
  const found = deliveryOfJob(job);
  if (!found.ok || !job.id) return 'not-replayable';
  const had = await state.replay(refOf(found.delivery), { delivered: from === 'completed' });
  const replayed = had === 'dead' || (had === 'delivered' && from === 'completed');
  const unrecordedFailure = from === 'failed' && (had === 'pending' || had === 'retrying' || had === 'active' || had === 'held');
  if (!replayed && !unrecordedFailure) return 'not-replayable';
  // BullMQ's retry keeps a job's stall count: one failed for stalling too often would fail again
  // at its first stall after the replay. Cleared while the job is finished, where no worker touches it.
  if (job.stalledCounter > 0) await (await queue.client).hdel(queue.toKey(job.id), 'stc');
  try {
    await job.retry(from, { resetAttemptsMade: true, resetAttemptsStarted: false });
    return 'replayed';
  } catch (error) {
    if (leftItsSet(error)) return 'gone';
    throw error;
  }
}

/**
 * Gives the job of an attempt a stopping worker cut short back to its queue, with no retry
 * spent, so a live worker takes it at once instead of after its lock expires: the record
 * first (the `handBack` transition), then BullMQ. Throws BullMQ's DelayedError, which tells
 * the worker the job was moved.
 */
export async function handBackJob(state: DeliveryState, job: Job<unknown>, token: string | undefined, ref: DeliveryRef, attempt: number): Promise<never> {
  await state.handBack(ref, attempt);
  await job.moveToDelayed(Date.now(), token);
  throw new DelayedError('attempt interrupted by shutdown');
}

/**
 * How long the job of a held delivery that started anyway waits (delayed) before it looks
 * again: its line releases it sooner (`releaseJob` promotes it), this is only in case that
 * release was lost.
 */
export const HELD_JOB_RECHECK_MS = 60_000;

/**
 * A job whose delivery is held behind an earlier one of its line (a replayed dead letter,
 * a job added by hand) ran: it waits, delayed, with no attempt spent, until the line releases
 * it. Throws BullMQ's DelayedError, which tells the worker the job was moved.
 */
export async function parkHeldJob(job: Job<unknown>, token: string | undefined): Promise<never> {
  await job.moveToDelayed(Date.now() + HELD_JOB_RECHECK_MS, token);
  throw new DelayedError('held behind an earlier delivery of its line');
}

/** How long a gated job waits when no end is known (paused, a probe under way): its queue is paused meanwhile, so a job due again waits in it without running. */
export const GATED_JOB_RECHECK_MS = 1_000;

/**
 * A job whose destination is paused or whose breaker is open ran: it waits, delayed until
 * `until` (unix ms; the breaker's cooldown) or GATED_JOB_RECHECK_MS, with no attempt spent.
 * A line's first delivery stays first: nothing behind it has a job. Throws BullMQ's
 * DelayedError, which tells the worker the job was moved.
 */
export async function parkGatedJob(job: Job<unknown>, token: string | undefined, until: number | undefined, now: number): Promise<never> {
  await job.moveToDelayed(Math.max(until ?? 0, now + GATED_JOB_RECHECK_MS), token);
  throw new DelayedError('its destination is paused, or its circuit breaker open');
}

/**
 * Makes sure the first delivery of a line can run: the delivery before it settled. Its job
 * is made (held deliveries have none), or, where it has one waiting delayed because it ran
 * while held (its record still says held), taken out of the delay. A job that exists
 * otherwise is left alone: waiting, active, or delayed by its retry backoff, it runs as it
 * is. Idempotent: every settle, every later start of a settled delivery's job and the sweep
 * of idle lines release the first of its line again.
 */
export async function releaseJob(state: DeliveryState, queue: DeliveryQueue, destination: PlannedDestination, flow: string, line: string, head: LineHead): Promise<void> {
  const existing = await queue.getJob(head.eventId);
  if (!existing) {
    const { name, data, opts } = deliveryJob(destination, { ...head, flow, line });
    await queue.add(name, data, opts);
    return;
  }
  if ((await existing.isDelayed()) && (await state.statusOf({ eventId: head.eventId, destination: destination.name })) === 'held') {
    try {
      await existing.promote();
    } catch (error) {
      // It left the delayed set meanwhile (its delay ran out, a worker took it): it runs as it is.
      if (!leftItsSet(error)) throw error;
    }
  }
}
