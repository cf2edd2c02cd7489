import { runScript, type PartitionKeys } from '@fanout/redis';
import type { Redis } from 'ioredis';
import { EVENT_LOG_SCRIPTS } from './scripts.js';

const HOLD = EVENT_LOG_SCRIPTS.get('holdLease');
const RELEASE = EVENT_LOG_SCRIPTS.get('releaseLease');

/**
 * One dispatcher at a time dispatches a partition: the holder of its lease. Ordered
 * destinations need it (lines are joined in stream order only by one dispatcher reading the
 * stream in order), and it is how a partition's owner will be found on Redis Cluster. Takes the
 * lease when nobody holds it, or renews it for `ttlMs` when `token` does; answers whether
 * `token` holds it now.
 */
export async function holdDispatchLease(redis: Redis, partition: PartitionKeys, token: string, ttlMs: number): Promise<boolean> {
  return (await runScript<number>(redis, HOLD, [partition.dispatchLease, token, ttlMs])) === 1;
}

/** Gives the lease up if `token` holds it, so another dispatcher takes over at once. */
export async function releaseDispatchLease(redis: Redis, partition: PartitionKeys, token: string): Promise<void> {
  await runScript(redis, RELEASE, [partition.dispatchLease, token]);
}
