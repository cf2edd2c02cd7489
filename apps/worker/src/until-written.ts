import { setTimeout as sleep } from 'node:timers/promises';
import { computeRetryDelay, type BackoffPolicy } from '@fanout/core';
import type { FanoutMetrics, Logger } from '@fanout/observability';
import { isTransientRedisFailure } from '@fanout/redis';

/** Short at first, at most 2 s: a Redis at its maxmemory frees up when deliveries close and the trim runs. */
const WRITE_BACKOFF: BackoffPolicy = { type: 'exponential', delayMs: 100, maxDelayMs: 2_000, jitter: 'full' };

export interface UntilWrittenDeps {
  readonly logger: Logger;
  readonly metrics: Pick<FanoutMetrics, 'recordRetries'>;
  /** Aborted when the worker stops: the write is given up (the job's lock expires and another worker takes it). */
  readonly shutdown: AbortSignal;
}

/** Which delivery a write is for, as its log lines name it. */
export interface WriteFor {
  readonly eventId: string;
  readonly flow: string;
  readonly destination: string;
  /** The transition: `begin`, `markDelivered`… */
  readonly transition: string;
}

/**
 * Runs a delivery transition until Redis takes it. A write that Redis refuses for its own
 * state (out of memory, unreachable, read-only after a failover) is tried again, never the
 * send: an attempt made is recorded once Redis takes writes again, instead of the job failing,
 * running again and sending again in a loop, or becoming a dead letter no record knows of.
 * Meanwhile the job stays active with its lock. Any other error (a script's own) is thrown.
 */
export async function untilWritten<T>(deps: UntilWrittenDeps, about: WriteFor, write: () => Promise<T>): Promise<T> {
  for (let failures = 0; ; failures += 1) {
    try {
      const written = await write();
      if (failures > 0) deps.logger.info({ ...about, failures }, 'delivery.recorded_after_retries');
      return written;
    } catch (error) {
      if (!isTransientRedisFailure(error) || deps.shutdown.aborted) throw error;
      if (failures === 0) deps.logger.warn({ ...about, err: error instanceof Error ? error.message : String(error) }, 'delivery.record_failed');
      deps.metrics.recordRetries.inc({ flow: about.flow, destination: about.destination });
      await sleep(computeRetryDelay({ policy: WRITE_BACKOFF, attemptsMade: failures + 1 }), undefined, { signal: deps.shutdown }).catch(() => {});
    }
  }
}
