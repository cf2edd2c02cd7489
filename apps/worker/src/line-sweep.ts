import { releaseJob, takeIdleLines, type DeliveryState } from '@fanout/delivery';
import type { Flow, Destination } from '@fanout/flows';
import type { Logger } from '@fanout/observability';
import type { DeliveryQueue } from '@fanout/queues';
import type { FanoutKeys } from '@fanout/redis';
import type { Redis } from 'ioredis';
import { startPeriodic, type Periodic } from './periodic.js';

/** An ordered destination served here, and its queue. */
export interface OrderedQueue {
  readonly name: string;
  readonly flow: Flow;
  readonly destination: Destination;
  readonly queue: DeliveryQueue;
}

export interface LineSweepOptions {
  /** How often, ms. */
  readonly everyMs: number;
  /** A line that has not moved for this long (no delivery joined or left it) is looked at, ms. */
  readonly idleMs: number;
}

/** Every 30 s, the lines idle for a minute: a first delivery under way or retrying moves its line at its next outcome. */
export const LINE_SWEEP: LineSweepOptions = { everyMs: 30_000, idleMs: 60_000 };

/**
 * Every `options.everyMs`, makes sure the first delivery of each line of the destinations `served` names
 * that has not moved for `options.idleMs` has a job (releaseJob: made if missing, a parked one taken out of its
 * delay). Releases happen as deliveries settle; this catches the one a worker lost (it died
 * between a settle and the next job, and BullMQ failed the settled delivery's job by itself
 * before it ran again).
 */
export function startLineSweep({ state, keys, redis, served, options, logger }: { state: DeliveryState; keys: FanoutKeys; redis: Redis; served: () => readonly OrderedQueue[]; options: LineSweepOptions; logger: Logger }): Periodic {
  return startPeriodic(async (stopped) => {
    // Read at each round: flows reloaded since start or retire destinations.
    const byName = new Map(served().map((queue) => [queue.name, queue]));
    if (byName.size === 0) return;
    for (const partition of keys.partitions) {
      try {
        for (const { line, queue, head } of await takeIdleLines(redis, partition, new Set(byName.keys()), options.idleMs, Date.now())) {
          const ordered = byName.get(queue)!;
          await releaseJob(state, ordered.queue, ordered.destination, ordered.flow.name, line, head);
        }
      } catch (error) {
        if (!stopped()) logger.warn({ err: error, partition: partition.index }, 'lines.sweep_failed');
      }
    }
  }, options.everyMs);
}
