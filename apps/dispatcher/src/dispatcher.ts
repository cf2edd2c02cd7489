import { computeRetryDelay, type BackoffPolicy } from '@fanout/core';
import { claimStaleEvents, ensureDispatcherGroup, holdDispatchLease, othersHoldPending, readDeliveryCounts, readNewEvents, releaseDispatchLease, type StreamBatch } from '@fanout/event-log';
import type { Redis } from 'ioredis';
import { createBatchJobs, DEFAULT_MAX_DISPATCH_ATTEMPTS, settleBatch, type BatchReading, type DispatchBatchDeps } from './dispatch-batch.js';
import { startStreamRetention } from './stream-retention.js';

export interface DispatcherDeps extends Omit<DispatchBatchDeps, 'maxDispatchAttempts' | 'leaseToken'>, Partial<Pick<DispatchBatchDeps, 'maxDispatchAttempts'>> {
  /**
   * A `background` connection used only for the blocking XREADGROUP: while it blocks it
   * can run nothing else, so `writer` must be another connection. After `stop()`, close it
   * with `disconnect()`: `quit()` would queue behind a read still blocked for up to `blockMs`.
   */
  readonly redis: Redis;
  /** This process's name in the consumer group, and its token on the partition's lease; unique per process, so a crashed one's entries can be told apart and claimed. */
  readonly consumer: string;
  /**
   * How long the partition's dispatch lease lasts unless renewed, in ms (it is renewed every
   * fifth of it). When its holder dies, another dispatcher takes over within about this long.
   * Default 5000.
   */
  readonly leaseTtlMs?: number;
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

export const DEFAULT_LEASE_TTL_MS = 5_000;

/** Pauses after a failed round while Redis restarts: short at first, at most 5 s. */
const FAILURE_BACKOFF: BackoffPolicy = { type: 'exponential', delayMs: 100, maxDelayMs: 5_000, jitter: 'full' };

const STOPPED = Symbol('stopped');

/** A batch and how it was read. */
interface ReadBatch {
  readonly batch: StreamBatch;
  readonly reading: BatchReading;
}

/**
 * Starts the dispatch loop of one partition. One dispatcher at a time dispatches it: the
 * holder of its lease; the others wait, and one takes over within `leaseTtlMs` when the
 * holder stops or dies. The holder dispatches in stream order, batch by batch (ordered
 * destinations' lines are joined in that order): first every entry left pending (by its
 * predecessor, or by a batch of its own that failed: claimed again, from the oldest), then new
 * ones read through the consumer group; every `claimEveryMs` the entries pending for
 * `claimIdleMs` (their jobs could not all be added) are claimed and dispatched again. Redis
 * failures are logged and retried after a pause; the loop never throws. Beside it, the stream
 * is trimmed every `trimEveryMs`.
 */
export function startDispatcher(deps: DispatcherDeps): Dispatcher {
  const { redis, writer, partition, consumer, batchSize = 100, blockMs = 1_000, claimIdleMs, claimEveryMs = 5_000, streamRetentionMs, trimEveryMs = 60_000, leaseTtlMs = DEFAULT_LEASE_TTL_MS } = deps;
  if (redis === writer) throw new Error('the dispatcher needs two connections: `redis` blocks in XREADGROUP, `writer` runs everything else');
  const logger = deps.logger.child({ consumer, partition: partition.index });
  const batchDeps: DispatchBatchDeps = { ...deps, maxDispatchAttempts: deps.maxDispatchAttempts ?? DEFAULT_MAX_DISPATCH_ATTEMPTS, logger, leaseToken: consumer };

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
  let owner = false;
  /**
   * Where the scan of every pending entry resumes: while set, pending entries come before new
   * ones, from the oldest (after taking the lease, and after a batch of its own failed, which
   * may have left it unrecorded while the one read after it would be recorded).
   */
  let backlogCursor: string | undefined;

  /**
   * How often the blocking connection closed. ioredis sends a command again when its
   * connection closed before the reply came, and a read Redis had served (the reply lost to a
   * kill or a cut) leaves its entries pending for this consumer while the read sent again
   * returns newer ones: those would join their lines first. A read across a close is not
   * dispatched; every pending entry is claimed again first, from the oldest.
   */
  let readerCloses = 0;
  const onReaderClose = (): void => void (readerCloses += 1);
  redis.on('close', onReaderClose);

  const stepDown = (): void => {
    if (!owner) return;
    owner = false;
    logger.warn('dispatcher.lease_lost');
  };
  /** Takes the lease, or renews it; notes when this dispatcher gains or loses the partition. */
  const keepLease = async (): Promise<void> => {
    const held = await holdDispatchLease(writer, partition, consumer, leaseTtlMs);
    if (held && !owner) {
      owner = true;
      backlogCursor = '0-0';
      logger.info({ leaseTtlMs }, 'dispatcher.lease_taken');
    } else if (!held) stepDown();
  };
  const renewal = setInterval(() => void keepLease().catch((error: unknown) => logger.warn({ err: error }, 'dispatcher.lease_renewal_failed')), leaseTtlMs / 5);

  /** Claims stale entries when a scan is due, else reads new ones, waiting up to `waitMs` for them (not at all when undefined). */
  const nextBatch = async (waitMs: number | undefined): Promise<ReadBatch> => {
    if (!groupReady) {
      const group = await ensureDispatcherGroup(writer, partition);
      // Entries up to it are read again as new, although they may have been dispatched: their
      // records say what each delivery still needs.
      if (group.created && group.rereadUpTo) logger.warn({ rereadUpTo: group.rereadUpTo }, 'dispatcher.group_created_on_stored_events');
      groupReady = true;
    }
    if (backlogCursor !== undefined) {
      const claimed = await claimStaleEvents(writer, partition, consumer, 0, backlogCursor, batchSize);
      backlogCursor = claimed.nextCursor === '0-0' ? undefined : claimed.nextCursor;
      return claimedBatch(claimed);
    }
    if (claimCursor === undefined && Date.now() >= nextClaimAt) claimCursor = '0-0';
    if (claimCursor === undefined) {
      const closesBefore = readerCloses;
      const batch = await readNewEvents(redis, partition, consumer, batchSize, waitMs);
      const entries = batch.events.length + batch.malformed.length;
      if (readerCloses !== closesBefore) {
        logger.warn({ entries }, 'dispatcher.read_across_reconnect');
      } else if (entries > 0 && (await othersHoldPending(writer, partition, consumer))) {
        // A read of a dispatcher that lost the lease while it waited took entries after this
        // one's takeover claim: they are older than this batch, and must join their lines first.
        logger.warn({ entries }, 'dispatcher.entries_pending_elsewhere');
      } else return { batch, reading: {} };
      backlogCursor = '0-0';
      return { batch: { events: [], malformed: [] }, reading: {} };
    }
    const claimed = await claimStaleEvents(writer, partition, consumer, claimIdleMs, claimCursor, batchSize);
    claimCursor = claimed.nextCursor === '0-0' ? undefined : claimed.nextCursor;
    if (claimCursor === undefined) nextClaimAt = Date.now() + claimEveryMs;
    return claimedBatch(claimed);
  };
  const claimedBatch = async (claimed: StreamBatch): Promise<ReadBatch> => {
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
        if (!owner) {
          await keepLease();
          if (!owner) {
            await pause(leaseTtlMs / 5);
            continue;
          }
        }
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
        // The batch read ahead may be recorded before the failed one would be: every pending
        // entry goes again first, oldest first. Its entries are pending, so nothing is lost.
        readAhead = undefined;
        backlogCursor = '0-0';
        // Another dispatcher holds the partition: its entries are the new holder's to dispatch.
        if (error instanceof Error && error.message.startsWith('NOTOWNER')) {
          stepDown();
          continue;
        }
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
    clearInterval(renewal);
    redis.off('close', onReaderClose);
    // Given up at once, so another dispatcher takes the partition without waiting for it to expire.
    if (owner) await releaseDispatchLease(writer, partition, consumer).catch((error: unknown) => logger.warn({ err: error }, 'dispatcher.lease_release_failed'));
    logger.info('dispatcher.stopped');
  };

  logger.info({ batchSize, blockMs, claimIdleMs, claimEveryMs, streamRetentionMs, trimEveryMs, leaseTtlMs }, 'dispatcher.started');
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
