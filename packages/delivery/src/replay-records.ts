import type { ReplayKeys } from '@fanout/redis';
import type { Redis } from 'ioredis';
import type { ReplayFilter } from './replay-filter.js';

/** `running` until every matched delivery is handled, then `finished`. */
export type ReplayStatus = 'running' | 'finished';

/** One replay of dead letters as stored: what was asked for, by whom, and how far it got. */
export interface ReplayRecord {
  readonly id: string;
  readonly flow: string;
  readonly destination: string;
  readonly filter: ReplayFilter;
  /** Deliveries queued again per second at most; absent: no cap. */
  readonly ratePerSecond?: number;
  readonly reason?: string;
  readonly requester: string;
  /** Unix ms. */
  readonly requestedAt: number;
  readonly status: ReplayStatus;
  /** How many dead letters the filter matched when the replay was asked for. */
  readonly matched: number;
  /** How many of those went back to waiting. */
  readonly queued: number;
  /** How many were no longer the dead letter they were when matched (replayed or removed meanwhile): left alone. */
  readonly skipped: number;
  /** Unix ms. */
  readonly finishedAt?: number;
}

/** Where a replay's runner stands: its cursor into the matched deliveries, and the batch it had under way. */
export interface ReplayCursor {
  readonly cursor: number;
  /** The end of the batch under way when its runner stopped (it may have replayed some of it). */
  readonly inflight?: number;
  /** The earliest time its next batch may start (unix ms). */
  readonly nextAt: number;
}

const numberOr = (text: string | undefined, fallback: number): number => (text === undefined || text === '' ? fallback : Number(text));

/** A stored record's fields, read back; undefined for a hash that is no replay. */
export function decodeReplay(id: string, fields: Record<string, string>): (ReplayRecord & ReplayCursor) | undefined {
  if (fields['flow'] === undefined) return undefined;
  const finishedAt = numberOr(fields['finishedAt'], NaN);
  const inflight = numberOr(fields['inflight'], NaN);
  return {
    id,
    flow: fields['flow'],
    destination: fields['destination'] ?? '',
    filter: JSON.parse(fields['filter'] ?? '{}') as ReplayFilter,
    ...(fields['rate'] ? { ratePerSecond: Number(fields['rate']) } : {}),
    ...(fields['reason'] ? { reason: fields['reason'] } : {}),
    requester: fields['requester'] ?? '',
    requestedAt: numberOr(fields['requestedAt'], 0),
    status: fields['status'] === 'finished' ? 'finished' : 'running',
    matched: numberOr(fields['matched'], 0),
    queued: numberOr(fields['queued'], 0),
    skipped: numberOr(fields['skipped'], 0),
    ...(Number.isNaN(finishedAt) ? {} : { finishedAt }),
    cursor: numberOr(fields['cursor'], 0),
    ...(Number.isNaN(inflight) ? {} : { inflight }),
    nextAt: numberOr(fields['nextAt'], 0),
  };
}

/** A new replay's record fields. */
export function encodeReplay(record: ReplayRecord): Record<string, string> {
  return {
    flow: record.flow,
    destination: record.destination,
    filter: JSON.stringify(record.filter),
    rate: record.ratePerSecond === undefined ? '' : String(record.ratePerSecond),
    reason: record.reason ?? '',
    requester: record.requester,
    requestedAt: String(record.requestedAt),
    status: record.status,
    matched: String(record.matched),
    queued: String(record.queued),
    skipped: String(record.skipped),
    ...(record.finishedAt === undefined ? {} : { finishedAt: String(record.finishedAt) }),
    cursor: '0',
    nextAt: '0',
  };
}

export async function readReplay(redis: Redis, keys: ReplayKeys, id: string): Promise<(ReplayRecord & ReplayCursor) | undefined> {
  return decodeReplay(id, await redis.hgetall(keys.record(id)));
}

/** A page of the audit, newest first. */
export async function readReplays(redis: Redis, keys: ReplayKeys, { limit, offset }: { limit: number; offset: number }): Promise<{ items: ReplayRecord[]; total: number }> {
  const [total, ids] = await Promise.all([redis.zcard(keys.audit), redis.zrevrange(keys.audit, offset, offset + limit - 1)]);
  const records = await Promise.all(ids.map((id) => readReplay(redis, keys, id)));
  return { items: records.filter((record): record is ReplayRecord & ReplayCursor => record !== undefined), total };
}
