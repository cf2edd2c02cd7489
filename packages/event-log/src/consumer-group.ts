import { DISPATCHER_GROUP, type PartitionKeys } from '@fanout/redis';
import type { Redis } from 'ioredis';
import { decodeEventEntry, type EventEntry } from './event-entry.js';

/** An entry as read from the stream: its stream id (for XACK and for delivery jobs) and the event. */
export interface StreamEvent {
  readonly streamId: string;
  readonly entry: EventEntry;
}

/** An entry that could not be decoded; it is still acknowledged or dead-lettered by its stream id. */
export interface MalformedStreamEntry {
  readonly streamId: string;
  readonly error: Error;
}

export interface StreamBatch {
  readonly events: StreamEvent[];
  readonly malformed: MalformedStreamEntry[];
}

/** What `ensureDispatcherGroup` found. */
export type GroupState =
  | { readonly created: false }
  /**
   * The group did not exist and was created at the start of the stream. `rereadUpTo` is the
   * newest entry the stream held then (undefined for an empty stream): entries up to it may
   * have been dispatched before, by a group that was lost (a failover to a replica that lagged,
   * a restore without it), and are read again as if new.
   */
  | { readonly created: true; readonly rereadUpTo: string | undefined };

/** Creates the dispatcher group (reading from the start of the stream) unless it exists. */
export async function ensureDispatcherGroup(redis: Redis, partition: PartitionKeys): Promise<GroupState> {
  try {
    await redis.xgroup('CREATE', partition.stream, DISPATCHER_GROUP, '0', 'MKSTREAM');
  } catch (error) {
    if (error instanceof Error && error.message.startsWith('BUSYGROUP')) return { created: false };
    throw error;
  }
  const [newest] = (await redis.xrevrange(partition.stream, '+', '-', 'COUNT', 1)) as [string, string[]][];
  return { created: true, rereadUpTo: newest?.[0] };
}

type RawEntries = [Buffer, Buffer[] | null][];

function toBatch(raw: RawEntries): StreamBatch {
  const batch: StreamBatch = { events: [], malformed: [] };
  for (const [id, fields] of raw) {
    const streamId = id.toString();
    try {
      // A claimed entry that was deleted meanwhile comes back with null fields.
      if (!fields) throw new Error('stream entry no longer exists');
      batch.events.push({ streamId, entry: decodeEventEntry(fields) });
    } catch (error) {
      batch.malformed.push({ streamId, error: error instanceof Error ? error : new Error(String(error)) });
    }
  }
  return batch;
}

/** New entries for this consumer, waiting up to `blockMs` when there are none; without `blockMs`, answers at once. */
export async function readNewEvents(redis: Redis, partition: PartitionKeys, consumer: string, count: number, blockMs?: number): Promise<StreamBatch> {
  const block = blockMs === undefined ? [] : ['BLOCK', blockMs];
  const reply = (await redis.callBuffer('XREADGROUP', ['GROUP', DISPATCHER_GROUP, consumer, 'COUNT', count, ...block, 'STREAMS', partition.stream, '>'])) as
    | [Buffer, RawEntries][]
    | null;
  return toBatch(reply?.[0]?.[1] ?? []);
}

export interface ClaimResult extends StreamBatch {
  /** Where the next claim scan starts; `0-0` when the scan went round the whole pending list. */
  readonly nextCursor: string;
}

/** Takes over entries another consumer left pending for at least `minIdleMs` (it crashed or hangs). */
export async function claimStaleEvents(redis: Redis, partition: PartitionKeys, consumer: string, minIdleMs: number, cursor: string, count: number): Promise<ClaimResult> {
  const [next, entries] = (await redis.callBuffer('XAUTOCLAIM', [partition.stream, DISPATCHER_GROUP, consumer, minIdleMs, cursor, 'COUNT', count])) as [Buffer, RawEntries, ...unknown[]];
  return { ...toBatch(entries), nextCursor: next.toString() };
}

/**
 * Whether a consumer other than `consumer` has entries pending in the dispatcher group (the
 * XPENDING summary: one round trip). The lease holder claims every pending entry when it
 * takes over, so any found later were read by a dispatcher that lost the lease meanwhile.
 */
export async function othersHoldPending(redis: Redis, partition: PartitionKeys, consumer: string): Promise<boolean> {
  const [, , , consumers] = (await redis.xpending(partition.stream, DISPATCHER_GROUP)) as [number, string | null, string | null, [string, string][] | null];
  return (consumers ?? []).some(([name, count]) => name !== consumer && Number(count) > 0);
}

export async function ackEvents(redis: Redis, partition: PartitionKeys, streamIds: readonly string[]): Promise<void> {
  if (streamIds.length > 0) await redis.xack(partition.stream, DISPATCHER_GROUP, ...streamIds);
}

/**
 * How often each entry was delivered through the group (read, then claimed again), from
 * XPENDING's extended form; an entry no longer pending is absent. One round trip: the
 * commands are sent together.
 */
export async function readDeliveryCounts(redis: Redis, partition: PartitionKeys, streamIds: readonly string[]): Promise<Map<string, number>> {
  const replies = await Promise.all(streamIds.map((id) => redis.xpending(partition.stream, DISPATCHER_GROUP, id, id, 1) as Promise<[string, string, number, number][]>));
  return new Map(replies.flatMap((reply) => reply.map(([id, , , count]) => [id, count] as const)));
}

/** The stored event behind a stream id, or undefined once it was trimmed. */
export async function readEvent(redis: Redis, partition: PartitionKeys, streamId: string): Promise<EventEntry | undefined> {
  // Not callBuffer: auto-pipelining connections break it (see ConnectionOptions.autoPipelining).
  const entries = (await redis.xrangeBuffer(partition.stream, streamId, streamId)) as RawEntries;
  const fields = entries[0]?.[1];
  return fields ? decodeEventEntry(fields) : undefined;
}
