import { computeRetryDelay, type BackoffPolicy } from '@fanout/core';
import { claimStaleEvents, ensureDispatcherGroup, readDeliveryCounts, readNewEvents, type StreamBatch } from '@fanout/event-log';
import type { Redis } from 'ioredis';
import { createBatchJobs, DEFAULT_MAX_DISPATCH_ATTEMPTS, settleBatch, type BatchReading, type DispatchBatchDeps } from './dispatch-batch.js';
import { startStreamRetention } from './stream-retention.js';

export interface DispatcherDeps extends Omit<DispatchBatchDeps, 'maxDispatchAttempts'>, Partial<Pick<DispatchBatchDeps, 'maxDispatchAttempts'>> {
  /**
   * A `background` connection used only for the blocking XREADGROUP: while it blocks it
   * can run nothing else, so `writer` must be another connection. After `stop()`, close it
   * with `disconnect()`: `quit()` would queue behind a read still blocked for up to `blockMs`.
   */
  readonly redis: Redis;
  /** This process's name in the consumer group; unique per process, so a crashed one's entries can be told apart and claimed. */
  readonly consumer: string;
  /** Stream entries read (or claimed) per batch. Default 100. */
  readonly batchSize?: number;
  /** How long one XREADGROUP waits for new entries, in ms. Default 1000. */
  readonly blockMs?: number;
  /** Entries pending this long (ms) on any consumer are claimed and dispatched again (FANOUT_CLAIM_IDLE). */
  readonly claimIdleMs: number;
  /** How often (ms) the pending entries are scanned for stale ones. Default 5000. */
  readonly claimEveryMs?: number;
  /**
   * Stream entries older than this (ms) are trimmed, unless a delivery of theirs is still
   * open, or the dispatchers have not dispatched them yet (FANOUT_STREAM_RETENTION).
   */
  readonly streamRetentionMs: number;
  /** How often (ms) the stream is trimmed. Default 60000. */
  readonly trimEveryMs?: number;
}

export interface Dispatcher {
  /**
   * Ends the loop: a read or claim in flight is abandoned (what it took stays pending and
   * is claimed later), a batch being dispatched is finished, and so is the one read ahead of
   * it while it was dispatched. Resolves once the loop is done.
   */
  stop(): Promise<void>;
}

/** Pauses after a failed round while Redis restarts: short at first, at most 5 s. */
const FAILURE_BACKOFF: BackoffPolicy = { type: 'exponential', delayMs: 100, maxDelayMs: 5_000, jitter: 'full' };

const STOPPED = Symbol('stopped');

/** A batch and how it was read. */
interface ReadBatch {
  readonly batch: StreamBatch;
  readonly reading: BatchReading;
}

/**
 * Starts the dispatch loop of one partition: new entries are read through the consumer group and dispatched
 * batch by batch; every `claimEveryMs` the entries pending for `claimIdleMs` on any
 * consumer (this one included) are claimed and dispatched too. Redis failures are logged
 * and retried after a pause; the loop never throws. Beside it, the stream is trimmed every
 * `trimEveryMs`.
 */
export function startDispatcher(deps: DispatcherDeps): Dispatcher {
  const { redis, writer, partition, consumer, batchSize = 100, blockMs = 1_000, claimIdleMs, claimEveryMs = 5_000, streamRetentionMs, trimEveryMs = 60_000 } = deps;
  if (redis === writer) throw new Error('the dispatcher needs two connections: `redis` blocks in XREADGROUP, `writer` runs everything else');
  const logger = deps.logger.child({ consumer, partition: partition.index });
  const batchDeps: DispatchBatchDeps = { ...deps, maxDispatchAttempts: deps.maxDispatchAttempts ?? DEFAULT_MAX_DISPATCH_ATTEMPTS, logger };

  let stopping = false;
  let signalStop = (): void => {};
  const stopped = new Promise<typeof STOPPED>((resolve) => (signalStop = () => resolve(STOPPED)));
  const untilStopped = <T>(work: Promise<T>): Promise<T | typeof STOPPED> => {
    // Once stop() wins the race nobody awaits `work`; its late failure must not be an unhandled rejection.
    work.catch(() => {});
    return Promise.race([work, stopped]);
  };

  let groupReady = false;
  let nextClaimAt = 0;
  /** Where the claim scan resumes; undefined between scans. */
  let claimCursor: string | undefined;

  /** Claims stale entries when a scan is due, else reads new ones, waiting up to `waitMs` for them (not at all when undefined). */
  const nextBatch = async (waitMs: number | undefined): Promise<ReadBatch> => {
    if (!groupReady) {
      const group = await ensureDispatcherGroup(writer, partition);
      // Entries up to it are read again as new, although they may have been dispatched: their
      // records say what each delivery still needs.
      if (group.created && group.rereadUpTo) logger.warn({ rereadUpTo: group.rereadUpTo }, 'dispatcher.group_created_on_stored_events');
      groupReady = true;
    }
    if (claimCursor === undefined && Date.now() >= nextClaimAt) claimCursor = '0-0';
    if (claimCursor === undefined) {
      return { batch: await readNewEvents(redis, partition, consumer, batchSize, waitMs), reading: {} };
    }
    const claimed = await claimStaleEvents(writer, partition, consumer, claimIdleMs, claimCursor, batchSize);
    claimCursor = claimed.nextCursor === '0-0' ? undefined : claimed.nextCursor;
    if (claimCursor === undefined) nextClaimAt = Date.now() + claimEveryMs;
    const claimedIds = [...claimed.events, ...claimed.malformed].map(({ streamId }) => streamId);
    return { batch: claimed, reading: { deliveryCounts: await readDeliveryCounts(writer, partition, claimedIds) } };
  };

  const pause = async (ms: number): Promise<void> => {
    let timer: NodeJS.Timeout | undefined;
    await untilStopped(new Promise<void>((resolve) => (timer = setTimeout(resolve, ms))));
    clearTimeout(timer);
  };

  const run = async (): Promise<void> => {
    let failures = 0;
    /** The batch after the one being dispatched, read meanwhile; dispatched even when stopping, so that a stop leaves nothing pending. */
    let readAhead: Promise<ReadBatch> | undefined;
    /** The previous batch's XACK and dead letters, still on their way while this batch's jobs are created; one at a time, in order. */
    let settling: Promise<unknown> | undefined;
    while (!stopping || readAhead) {
      try {
        const ahead = readAhead;
        readAhead = undefined;
        const read = ahead ? await ahead : await untilStopped(nextBatch(blockMs));
        if (read === STOPPED) break;
        // A full batch means more are waiting: Redis serves the next read while this process
        // plans the batch and adds its jobs. Not blocking, so a stop never waits for it.
        if (!stopping && read.batch.events.length + read.batch.malformed.length >= batchSize) {
          readAhead = nextBatch(undefined);
          readAhead.catch(() => {});
        }
        const created = await createBatchJobs(batchDeps, read.batch, read.reading);
        const previous = settling;
        settling = undefined;
        if (previous) await previous;
        settling = settleBatch(batchDeps, created);
        // Awaited in the next round or once the loop ends; until then its failure must not be unhandled.
        settling.catch(() => {});
        failures = 0;
      } catch (error) {
        failures += 1;
        // A Redis that came back without its data lost the group too (NOGROUP): create it again.
        groupReady = false;
        const retryInMs = computeRetryDelay({ policy: FAILURE_BACKOFF, attemptsMade: failures });
        logger.error({ err: error, failures, retryInMs }, 'dispatcher.failed');
        await pause(retryInMs);
      }
    }
    // The last batch's XACK: a stop leaves nothing pending that was dispatched.
    await settling?.catch((error: unknown) => logger.error({ err: error }, 'dispatcher.failed'));
    logger.info('dispatcher.stopped');
  };

  logger.info({ batchSize, blockMs, claimIdleMs, claimEveryMs, streamRetentionMs, trimEveryMs }, 'dispatcher.started');
  const retention = startStreamRetention({ writer, partition, logger, retentionMs: streamRetentionMs, everyMs: trimEveryMs, eventRecordTtlMs: deps.eventRecordTtlMs });
  const running = run();
  return {
    stop() {
      stopping = true;
      signalStop();
      retention.stop();
      return running;
    },
  };
}
