import { DISPATCHER_GROUP, recordBucketTtlMs, runScript, type PartitionKeys } from '@fanout/redis';
import type { Redis } from 'ioredis';
import { encodeEventEntry, type EventEntry } from './event-entry.js';
import { EVENT_LOG_SCRIPTS } from './scripts.js';

/** A stream entry the dispatcher gives up on, and why. */
export interface DispatchFailure {
  readonly streamId: string;
  readonly reason: string;
  /** How often the entry was read or claimed through the group (XPENDING's delivery count). */
  readonly deliveryCount: number;
}

/** A dispatcher dead letter as stored: what went wrong, and the entry's fields as they were. */
export interface DispatchDeadLetter {
  /** The dead letter's own stream id; newer ones sort after older ones. */
  readonly id: string;
  /** The event stream entry it was. */
  readonly streamId: string;
  readonly reason: string;
  readonly deliveryCount: number;
  /** Unix ms. */
  readonly deadLetteredAt: number;
  /** The entry's fields other than the body, as text; empty when the entry was gone. */
  readonly fields: Readonly<Record<string, string>>;
  /** The entry's body, byte for byte; undefined when it had none. */
  readonly body: Buffer | undefined;
}

export interface DispatchDeadLetterPage {
  readonly items: DispatchDeadLetter[];
  /** Dead letters stored in all. */
  readonly total: number;
  /** Where the next page starts (exclusive); null on the last page. */
  readonly nextCursor: string | null;
}

/** Entry fields are copied under this prefix, so they can never clash with the dead letter's own fields. */
const ENTRY_FIELD = 'entry.';

const DEAD_LETTER = EVENT_LOG_SCRIPTS.get('deadLetterEntries');
const REDRIVE = EVENT_LOG_SCRIPTS.get('redriveDeadLetter');

/**
 * Moves entries to the dispatcher dead letters: each is copied there (its fields byte for
 * byte, with the reason, the delivery count and the time) and acknowledged, atomically.
 * Answers the stream ids this call dead-lettered; an entry no longer pending is left alone.
 */
export async function deadLetterEntries(redis: Redis, partition: PartitionKeys, failures: readonly DispatchFailure[], now: number): Promise<string[]> {
  if (failures.length === 0) return [];
  const args = failures.flatMap(({ streamId, reason, deliveryCount }) => [streamId, reason, deliveryCount]);
  return runScript<string[]>(redis, DEAD_LETTER, [partition.stream, partition.dispatchDeadLetters, DISPATCHER_GROUP, now, ENTRY_FIELD, ...args]);
}

function toDeadLetter([id, raw]: [Buffer, Buffer[]]): DispatchDeadLetter {
  const own: Record<string, string> = {};
  const fields: Record<string, string> = {};
  let body: Buffer | undefined;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!.toString();
    const value = raw[i + 1]!;
    if (!name.startsWith(ENTRY_FIELD)) own[name] = value.toString();
    else if (name === `${ENTRY_FIELD}body`) body = value;
    else fields[name.slice(ENTRY_FIELD.length)] = value.toString();
  }
  return {
    id: id.toString(),
    streamId: own['streamId'] ?? '',
    reason: own['reason'] ?? '',
    deliveryCount: Number(own['deliveryCount']),
    deadLetteredAt: Number(own['deadLetteredAt']),
    fields,
    body,
  };
}

/**
 * A page of the dispatcher dead letters, newest first: `limit` of them, starting after the
 * dead letter `cursor` names (a previous page's `nextCursor`), or at the newest.
 */
export async function readDispatchDeadLetters(redis: Redis, partition: PartitionKeys, { limit, cursor }: { limit: number; cursor?: string }): Promise<DispatchDeadLetterPage> {
  // One more than asked for tells whether another page follows.
  const [total, raw] = await Promise.all([
    redis.xlen(partition.dispatchDeadLetters),
    redis.xrevrangeBuffer(partition.dispatchDeadLetters, cursor === undefined ? '+' : `(${cursor}`, '-', 'COUNT', limit + 1) as Promise<[Buffer, Buffer[]][]>,
  ]);
  const items = raw.slice(0, limit).map(toDeadLetter);
  return { items, total, nextCursor: raw.length > limit ? (items.at(-1)?.id ?? null) : null };
}

/** One dispatcher dead letter by its id; undefined when the partition has none of that id. */
export async function readDispatchDeadLetter(redis: Redis, partition: PartitionKeys, id: string): Promise<DispatchDeadLetter | undefined> {
  const [found] = (await redis.xrangeBuffer(partition.dispatchDeadLetters, id, id)) as [Buffer, Buffer[]][];
  return found ? toDeadLetter(found) : undefined;
}

/**
 * Puts a dispatcher dead letter's entry back on the event stream (see redriveDeadLetter.lua),
 * so a dispatcher dispatches it again; answers its new stream id, or undefined when the dead
 * letter was gone.
 */
export async function redriveDispatchDeadLetter(redis: Redis, partition: PartitionKeys, id: string, entry: EventEntry, recordTtlMs: number): Promise<string | undefined> {
  const streamId = await runScript<string | null>(redis, REDRIVE, [partition.stream, partition.eventRecords(entry.id), partition.dispatchDeadLetters, recordBucketTtlMs(recordTtlMs), id, ...encodeEventEntry(entry)]);
  return streamId ?? undefined;
}
