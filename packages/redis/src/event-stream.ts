import type { Redis } from 'ioredis';
import { decodeEventEntry, encodeEventEntry, type EventEntry } from './event-entry.js';
import { DISPATCHER_GROUP, type FanoutKeys } from './keys.js';

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

/**
 * Appends the event to the stream and creates its event record in one script, so that
 * `GET /events/:id` knows an event from the moment it is answered 202, and a crash can
 * never leave one without the other. Returns the stream entry id.
 */
// ARGV: record ttl, then the entry's field/value list in encodeEventEntry's order
// (id, flow, receivedAt, contentType, body), so ARGV[5] is the flow and ARGV[7] receivedAt.
const APPEND_EVENT_LUA = `
local streamId = redis.call('XADD', KEYS[1], '*', unpack(ARGV, 2))
redis.call('HSET', KEYS[2], 'flow', ARGV[5], 'receivedAt', ARGV[7], 'streamId', streamId)
redis.call('PEXPIRE', KEYS[2], ARGV[1])
return streamId
`;

interface AppendEventCommand {
  fanoutAppendEvent(streamKey: string, recordKey: string, recordTtlMs: number, ...fields: (string | Buffer)[]): Promise<string>;
}

function withAppendCommand(redis: Redis): AppendEventCommand {
  if (!('fanoutAppendEvent' in redis)) redis.defineCommand('fanoutAppendEvent', { numberOfKeys: 2, lua: APPEND_EVENT_LUA });
  return redis as unknown as AppendEventCommand;
}

export async function appendEvent(redis: Redis, keys: FanoutKeys, entry: EventEntry, recordTtlMs: number): Promise<string> {
  return withAppendCommand(redis).fanoutAppendEvent(keys.eventStream, keys.event(entry.id), recordTtlMs, ...encodeEventEntry(entry));
}

/** Creates the dispatcher group (reading from the start of the stream) unless it exists. */
export async function ensureDispatcherGroup(redis: Redis, keys: FanoutKeys): Promise<void> {
  try {
    await redis.xgroup('CREATE', keys.eventStream, DISPATCHER_GROUP, '0', 'MKSTREAM');
  } catch (error) {
    if (!(error instanceof Error && error.message.startsWith('BUSYGROUP'))) throw error;
  }
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

/** New entries for this consumer, waiting up to `blockMs` when there are none. */
export async function readNewEvents(redis: Redis, keys: FanoutKeys, consumer: string, count: number, blockMs: number): Promise<StreamBatch> {
  const reply = (await redis.callBuffer('XREADGROUP', ['GROUP', DISPATCHER_GROUP, consumer, 'COUNT', count, 'BLOCK', blockMs, 'STREAMS', keys.eventStream, '>'])) as
    | [Buffer, RawEntries][]
    | null;
  return toBatch(reply?.[0]?.[1] ?? []);
}

export interface ClaimResult extends StreamBatch {
  /** Where the next claim scan starts; `0-0` when the scan went round the whole pending list. */
  readonly nextCursor: string;
}

/** Takes over entries another consumer left pending for at least `minIdleMs` (it crashed or hangs). */
export async function claimStaleEvents(redis: Redis, keys: FanoutKeys, consumer: string, minIdleMs: number, cursor: string, count: number): Promise<ClaimResult> {
  const [next, entries] = (await redis.callBuffer('XAUTOCLAIM', [keys.eventStream, DISPATCHER_GROUP, consumer, minIdleMs, cursor, 'COUNT', count])) as [Buffer, RawEntries, ...unknown[]];
  return { ...toBatch(entries), nextCursor: next.toString() };
}

export async function ackEvents(redis: Redis, keys: FanoutKeys, streamIds: readonly string[]): Promise<void> {
  if (streamIds.length > 0) await redis.xack(keys.eventStream, DISPATCHER_GROUP, ...streamIds);
}

/** The stored event behind a stream id, or undefined once it was trimmed. */
export async function readEvent(redis: Redis, keys: FanoutKeys, streamId: string): Promise<EventEntry | undefined> {
  const entries = (await redis.xrangeBuffer(keys.eventStream, streamId, streamId)) as RawEntries;
  const fields = entries[0]?.[1];
  return fields ? decodeEventEntry(fields) : undefined;
}
