import type { DeliveryJob, DeliveryQueue } from '@fanout/queues';
import type { Job } from 'bullmq';
import { matchesFilter, type ReplayFilter } from './replay-filter.js';

/** Failed jobs read per round trip while matching a destination's dead letters. */
export const MATCH_PAGE_SIZE = 200;

/** The dead letters a replay filter matched: each as `<event id>|<dead-lettered at>`, oldest first, and the named ids that were not dead letters. */
export interface MatchedDeadLetters {
  readonly deliveries: string[];
  readonly notFound: string[];
}

/**
 * One matched dead letter: its event id and when it died. A replay replays it only while its
 * job is still that dead letter (failed at that time), so one replayed meanwhile, or replayed
 * and dead again, is never replayed twice, however often a replay is resumed.
 */
export function matchedDelivery(job: Job<DeliveryJob>): string {
  return `${job.id ?? ''}|${job.finishedOn ?? 0}`;
}

export function decodeMatchedDelivery(item: string): { eventId: string; deadLetteredAt: number } {
  const bar = item.lastIndexOf('|');
  return { eventId: item.slice(0, bar), deadLetteredAt: Number(item.slice(bar + 1)) };
}

const factsOf = (job: Job<DeliveryJob>) => ({ eventId: job.id ?? '', deadLetteredAt: job.finishedOn ?? 0, error: job.failedReason ?? '' });

async function matchByIds(queue: DeliveryQueue, filter: ReplayFilter & { ids: readonly string[] }): Promise<MatchedDeadLetters> {
  const unique = [...new Set(filter.ids)];
  const jobs = await Promise.all(
    unique.map(async (id) => {
      const job = await queue.getJob(id);
      return job !== undefined && (await job.isFailed()) ? job : undefined;
    }),
  );
  const found = jobs.filter((job): job is Job<DeliveryJob> => job !== undefined);
  return {
    deliveries: found.filter((job) => matchesFilter(filter, factsOf(job))).sort((a, b) => (a.finishedOn ?? 0) - (b.finishedOn ?? 0)).map(matchedDelivery),
    notFound: unique.filter((_id, index) => jobs[index] === undefined),
  };
}

async function matchAll(queue: DeliveryQueue, filter: ReplayFilter): Promise<MatchedDeadLetters> {
  // No more than were dead-lettered when matching began: later ones are not the operator's ask.
  const total = await queue.getFailedCount();
  const deliveries: string[] = [];
  for (let start = 0; start < total; start += MATCH_PAGE_SIZE) {
    const page = await queue.getJobs(['failed'], start, Math.min(start + MATCH_PAGE_SIZE, total) - 1, true);
    if (page.length === 0) break;
    for (const job of page) if (matchesFilter(filter, factsOf(job))) deliveries.push(matchedDelivery(job));
  }
  return { deliveries, notFound: [] };
}

/** The dead letters of one destination (its queue's failed set) that `filter` matches, oldest first. */
export function matchDeadLetters(queue: DeliveryQueue, filter: ReplayFilter): Promise<MatchedDeadLetters> {
  return filter.ids === undefined ? matchAll(queue, filter) : matchByIds(queue, { ...filter, ids: filter.ids });
}
