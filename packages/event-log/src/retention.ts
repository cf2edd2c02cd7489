import { DISPATCHER_GROUP, runScript, type PartitionKeys } from '@fanout/redis';
import type { Redis } from 'ioredis';
import { EVENT_LOG_SCRIPTS } from './scripts.js';

export interface TrimOptions {
  /** Unix ms. */
  readonly now: number;
  /** Stream entries older than this (ms) are trimmed, unless one that is still needed holds them back. */
  readonly retentionMs: number;
  /**
   * Open deliveries older than this (ms) stop holding entries back: the event record is gone
   * by then, and a delivery left open that long (its job removed by hand, its destination
   * removed from the flow) must not stop retention for good.
   */
  readonly openDeliveryMaxAgeMs: number;
  /** Dispatcher dead letters older than this (ms) are trimmed. */
  readonly deadLetterRetentionMs: number;
}

export interface TrimResult {
  /** Stream entries trimmed. */
  readonly trimmed: number;
  /** The stream id the stream now starts at or after; undefined when nothing could be trimmed (no dispatcher group yet). */
  readonly minId: string | undefined;
  readonly deadLettersTrimmed: number;
  /** Open deliveries (`<eventId>:<destination>`) dropped for being older than `openDeliveryMaxAgeMs`. */
  readonly expiredOpenDeliveries: string[];
}

const TRIM = EVENT_LOG_SCRIPTS.get('trimStream');

/**
 * Trims a partition's event stream by age (exactly, `XTRIM MINID`), but never an entry that is still
 * needed: one with an open delivery (pending or retrying), one the dispatchers have read but
 * not yet dispatched, or one they have not read yet. Also trims the dispatcher dead letters
 * by age and drops open deliveries past `openDeliveryMaxAgeMs`.
 */
export async function trimEventStream(redis: Redis, partition: PartitionKeys, { now, retentionMs, openDeliveryMaxAgeMs, deadLetterRetentionMs }: TrimOptions): Promise<TrimResult> {
  const [trimmed, minId, deadLettersTrimmed, expiredOpenDeliveries] = await runScript<[number, string, number, string[]]>(redis, TRIM, [
    partition.stream,
    partition.openDeliveries,
    partition.dispatchDeadLetters,
    DISPATCHER_GROUP,
    Math.max(0, now - retentionMs),
    Math.max(0, now - openDeliveryMaxAgeMs),
    Math.max(0, now - deadLetterRetentionMs),
  ]);
  return { trimmed, minId: minId === '' ? undefined : minId, deadLettersTrimmed, expiredOpenDeliveries };
}
