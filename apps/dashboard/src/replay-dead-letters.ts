import { replayJob, type DeliveryState } from '@fanout/delivery';
import type { DeliveryQueue } from '@fanout/queues';
import type { Job } from 'bullmq';
import { z } from 'zod';

/** Failed jobs read per round trip when replaying a destination's whole dead-letter queue. */
export const REPLAY_PAGE_SIZE = 100;

export interface ReplayDeps {
  readonly state: DeliveryState;
}

export const replayResultSchema = z.object({
  queued: z.int().min(0).meta({ description: 'Dead letters moved back to waiting.' }),
  notFound: z.array(z.string()).meta({ description: "Requested event ids that were not in the destination's dead letters." }),
  outOfOrder: z
    .literal(true)
    .optional()
    .meta({ description: 'An ordered destination: the replayed deliveries go after those waiting now, not in their own order.' }),
});
export type ReplayResult = z.output<typeof replayResultSchema>;

const replayed = async ({ state }: ReplayDeps, queue: DeliveryQueue, job: Job): Promise<boolean> => (await replayJob(state, queue, job, 'failed')) === 'replayed';

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
    const results = await Promise.all(page.map((job) => replayed(deps, queue, job)));
    queued += results.filter(Boolean).length;
  }
  return { queued, notFound: [] };
}

async function replayByIds(deps: ReplayDeps, queue: DeliveryQueue, ids: readonly string[]): Promise<ReplayResult> {
  const unique = [...new Set(ids)];
  const results = await Promise.all(
    unique.map(async (id) => {
      const job = await queue.getJob(id);
      return job !== undefined && (await job.isFailed()) && (await replayed(deps, queue, job));
    }),
  );
  return { queued: results.filter(Boolean).length, notFound: unique.filter((_id, index) => !results[index]) };
}

/**
 * Replays a destination's dead letters: every one, or those of the named event ids. Each
 * goes through the delivery's replay (see replayJob): back to waiting with its job id and a
 * fresh set of attempts, its record to pending.
 */
export async function replayDeadLetters(deps: ReplayDeps, queue: DeliveryQueue, ids?: readonly string[]): Promise<ReplayResult> {
  return ids === undefined ? replayAll(deps, queue) : replayByIds(deps, queue, ids);
}
