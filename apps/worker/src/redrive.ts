import { replayJob, type DeliveryState } from '@fanout/delivery';
import type { Destination } from '@fanout/flows';
import type { DeliveryQueue } from '@fanout/queues';
import { setTimeout as sleep } from 'node:timers/promises';

/** A redrive's pace when the destination has no rateLimit: dead letters replayed per second. */
export const REDRIVE_DEFAULT_PER_SECOND = 10;

/** Failed jobs read per round trip. */
const PAGE = 100;

/** The ms between two replays of a redrive: the destination's rateLimit, or REDRIVE_DEFAULT_PER_SECOND. */
export function redriveIntervalMs(destination: Pick<Destination, 'rateLimit'>): number {
  const { rateLimit } = destination;
  return rateLimit ? rateLimit.perMs / rateLimit.max : 1_000 / REDRIVE_DEFAULT_PER_SECOND;
}

export interface Redrive {
  readonly state: DeliveryState;
  readonly queue: DeliveryQueue;
  readonly destination: Pick<Destination, 'rateLimit'>;
  /** The dead letters to replay: those that died from `from` to `to` (unix ms), the outage. */
  readonly from: number;
  readonly to: number;
  readonly signal: AbortSignal;
}

/**
 * Replays, oldest first and one every redriveIntervalMs, the destination's dead letters that
 * died within the outage, through the delivery's replay (replayJob). Answers how many it
 * replayed. The walk is bounded by the dead letters there were when it began, so a replayed
 * delivery that dies again (it re-enters the failed set as its newest) is not met twice.
 */
export async function redriveDeadLetters({ state, queue, destination, from, to, signal }: Redrive): Promise<number> {
  const intervalMs = redriveIntervalMs(destination);
  let remaining = await queue.getFailedCount();
  // Those outside the outage stay in the failed set, ahead of the ones still to look at.
  let skipped = 0;
  let replayed = 0;
  let last = 0;
  while (remaining > 0 && !signal.aborted) {
    const page = await queue.getJobs(['failed'], skipped, skipped + Math.min(PAGE, remaining) - 1, true);
    if (page.length === 0) break;
    remaining -= page.length;
    for (const job of page) {
      const diedAt = job.finishedOn ?? 0;
      if (diedAt < from || diedAt > to) {
        skipped += 1;
        continue;
      }
      const wait = last + intervalMs - Date.now();
      if (wait > 0) await sleep(wait, undefined, { signal }).catch(() => undefined);
      if (signal.aborted) break;
      last = Date.now();
      const outcome = await replayJob(state, queue, job, 'failed');
      if (outcome === 'replayed') replayed += 1;
      // 'gone' left the set by itself; what could not be replayed stays in it.
      else if (outcome === 'not-replayable') skipped += 1;
    }
  }
  return replayed;
}
