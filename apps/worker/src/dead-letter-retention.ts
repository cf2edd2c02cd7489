import type { Logger } from '@fanout/observability';
import type { Queue } from 'bullmq';
import { startPeriodic, type Periodic } from './periodic.js';

/** One destination's dead letters: the failed set of its queue, and how long they are kept. */
export interface DeadLetterQueue {
  readonly queue: Pick<Queue, 'name' | 'clean'>;
  /** The destination's deadLetter.retention, ms. */
  readonly retentionMs: number;
}

/** Dead letters removed per call, so one sweep of a long backlog never holds Redis for long. */
const SWEEP_BATCH = 1_000;

/**
 * Removes dead letters past their destination's retention every `everyMs`, in the queues `queues` names at each round. BullMQ applies a
 * job's `removeOnFail` age only when another job of the queue fails, so a destination that
 * stopped failing would keep its old dead letters for ever; this holds the retention by time.
 * Their records, attempt logs and event copies expire by their own ttl at the same age.
 */
export function startDeadLetterRetention(queues: () => readonly DeadLetterQueue[], everyMs: number, logger: Logger): Periodic {
  return startPeriodic(async (stopped) => {
    for (const { queue, retentionMs } of queues()) {
      try {
        let removed = 0;
        for (let batch = SWEEP_BATCH; batch === SWEEP_BATCH && !stopped(); removed += batch) batch = (await queue.clean(retentionMs, SWEEP_BATCH, 'failed')).length;
        if (removed > 0) logger.info({ queue: queue.name, removed, retentionMs }, 'dead_letters.expired');
      } catch (error) {
        if (!stopped()) logger.warn({ err: error, queue: queue.name }, 'dead_letters.sweep_failed');
      }
    }
  }, everyMs);
}
