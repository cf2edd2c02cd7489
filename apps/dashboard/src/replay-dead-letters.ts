import { readDeliveryRecord, writeDeliveryRecord, type FanoutKeys } from '@fanout/redis';
import type { DeliveryJob, DeliveryQueue } from '@fanout/queues';
import { ErrorCode, type Job } from 'bullmq';
import type { Redis } from 'ioredis';

/** Failed jobs read per round trip when replaying a destination's whole dead-letter queue. */
export const REPLAY_PAGE_SIZE = 100;

export interface ReplayDeps {
  redis: Redis;
  keys: FanoutKeys;
  /** Unix ms, stamped on the delivery records set back to pending. */
  now: () => number;
}

export interface ReplayResult {
  /** Dead letters moved back to waiting. */
  readonly queued: number;
  /** Requested event ids that were not in the destination's dead-letter queue. */
  readonly notFound: string[];
}

function leftFailedSet(error: unknown): boolean {
  const code = typeof error === 'object' && error !== null && 'code' in error ? error.code : undefined;
  return code === ErrorCode.JobNotExist || code === ErrorCode.JobNotInState;
}

async function markPending({ redis, keys, now }: ReplayDeps, { eventId, destination }: DeliveryJob): Promise<void> {
  const record = await readDeliveryRecord(redis, keys, eventId, destination);
  // An expired event record stays expired: writing one field would leave a hash without flow or ttl.
  if (!record) return;
  const pipeline = redis.pipeline();
  writeDeliveryRecord(pipeline, keys, eventId, destination, { ...record, status: 'pending', updatedAt: now() });
  const failure = (await pipeline.exec())?.find(([error]) => error)?.[0];
  if (failure) throw failure;
}

/**
 * BullMQ's retry keeps a job's stall count: a job failed for stalling too often would fail
 * again at its first stall after the replay. The replay gives it a fresh count with its fresh
 * set of attempts; cleared while the job is in the failed set, where no worker touches it.
 */
async function forgetStalls(queue: DeliveryQueue, job: Job<DeliveryJob>): Promise<void> {
  if (!job.id || job.stalledCounter === 0) return;
  const client = await queue.client;
  await client.hdel(queue.toKey(job.id), 'stc');
}

/**
 * Moves one failed job back to waiting under the same job id (so the same `webhook-id`) with
 * a fresh set of attempts; attempt numbers go on from where they were (see `deliver`). False
 * when it left the failed set meanwhile (replayed by someone else, or removed after its
 * retention).
 */
async function replayJob(deps: ReplayDeps, queue: DeliveryQueue, job: Job<DeliveryJob>): Promise<boolean> {
  // The record is set before the retry: while the job sits in the failed set no worker writes
  // its record, whereas once it is waiting a worker may record a newer status first.
  await markPending(deps, job.data);
  await forgetStalls(queue, job);
  try {
    await job.retry('failed', { resetAttemptsMade: true, resetAttemptsStarted: false });
    return true;
  } catch (error) {
    if (leftFailedSet(error)) return false;
    throw error;
  }
}

async function replayAll(deps: ReplayDeps, queue: DeliveryQueue): Promise<ReplayResult> {
  // Oldest first and no more than were dead-lettered when the replay began: a replayed delivery
  // that fails again re-enters the failed set as its newest member, so it is never met twice,
  // and the count bounds the walk even when workers' clocks disagree.
  let remaining = await queue.getFailedCount();
  let queued = 0;
  while (remaining > 0) {
    const page = await queue.getJobs(['failed'], 0, Math.min(REPLAY_PAGE_SIZE, remaining) - 1, true);
    if (page.length === 0) break;
    remaining -= page.length;
    const replayed = await Promise.all(page.map((job) => replayJob(deps, queue, job)));
    queued += replayed.filter(Boolean).length;
  }
  return { queued, notFound: [] };
}

async function replayByIds(deps: ReplayDeps, queue: DeliveryQueue, ids: readonly string[]): Promise<ReplayResult> {
  const unique = [...new Set(ids)];
  const replayed = await Promise.all(
    unique.map(async (id) => {
      const job = await queue.getJob(id);
      return job !== undefined && (await job.isFailed()) && (await replayJob(deps, queue, job));
    }),
  );
  return { queued: replayed.filter(Boolean).length, notFound: unique.filter((_id, index) => !replayed[index]) };
}

/**
 * Replays a destination's dead letters: every one, or those of the named event ids. Each goes
 * back to waiting with its job id and a fresh set of attempts, its delivery record to pending.
 */
export async function replayDeadLetters(deps: ReplayDeps, queue: DeliveryQueue, ids?: readonly string[]): Promise<ReplayResult> {
  return ids === undefined ? replayAll(deps, queue) : replayByIds(deps, queue, ids);
}
