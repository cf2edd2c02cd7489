import { Command, type Redis } from 'ioredis';
import { decodeEventEntry, encodeEventEntry, type EventEntry } from './event-entry.js';
import { DISPATCHER_GROUP, type FanoutKeys } from './keys.js';
import { withScript, type FanoutScript } from './scripts.js';

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

// Appends the entry to the stream and creates its event record. ARGV[1] is the record ttl,
// ARGV[first..] the entry's field/value list in encodeEventEntry's order (id, flow,
// receivedAt, contentType, body), so ARGV[first + 1] is the event id, ARGV[first + 3] the
// flow and ARGV[first + 5] receivedAt.
const appendLua = (first: number): string => `
local streamId = redis.call('XADD', KEYS[1], '*', unpack(ARGV, ${first}))
redis.call('HSET', KEYS[2], 'flow', ARGV[${first + 3}], 'receivedAt', ARGV[${first + 5}], 'streamId', streamId)
redis.call('PEXPIRE', KEYS[2], ARGV[1])
`;

const APPEND_EVENT_LUA = `${appendLua(2)}
return streamId
`;

// KEYS[3] is the idempotency key, ARGV[2] its ttl. Checked and set in the same script as the
// XADD, so of concurrent requests with one key exactly one is stored; a repeat writes nothing.
const APPEND_EVENT_ONCE_LUA = `
local firstId = redis.call('GET', KEYS[3])
if firstId then return {'replayed', firstId} end
${appendLua(3)}
redis.call('SET', KEYS[3], ARGV[4], 'PX', ARGV[2])
return {'appended', streamId}
`;

interface AppendEventCommand {
  fanoutAppendEvent(streamKey: string, recordKey: string, recordTtlMs: number, ...fields: (string | Buffer)[]): Promise<string>;
}

interface AppendEventOnceCommand {
  fanoutAppendEventOnce(
    streamKey: string,
    recordKey: string,
    idempotencyKey: string,
    recordTtlMs: number,
    idempotencyTtlMs: number,
    ...fields: (string | Buffer)[]
  ): Promise<['appended' | 'replayed', string]>;
}

export const APPEND_EVENT_SCRIPT: FanoutScript = { name: 'fanoutAppendEvent', numberOfKeys: 2, lua: APPEND_EVENT_LUA };
export const APPEND_EVENT_ONCE_SCRIPT: FanoutScript = { name: 'fanoutAppendEventOnce', numberOfKeys: 3, lua: APPEND_EVENT_ONCE_LUA };

/**
 * Appends the event to the stream and creates its event record in one script, so that
 * `GET /events/:id` knows an event from the moment it is answered 202, and a crash can
 * never leave one without the other. Returns the stream entry id.
 */
export async function appendEvent(redis: Redis, keys: FanoutKeys, entry: EventEntry, recordTtlMs: number): Promise<string> {
  return withScript<AppendEventCommand>(redis, APPEND_EVENT_SCRIPT).fanoutAppendEvent(keys.eventStream, keys.event(entry.id), recordTtlMs, ...encodeEventEntry(entry));
}

/** An idempotency key as the sender gave it, and how long it is remembered (ms). */
export interface IdempotencyKey {
  readonly key: string;
  readonly ttlMs: number;
}

export type AppendOnceResult =
  | { readonly replayed: false; readonly streamId: string }
  /** The key was seen within its ttl: nothing was written; `eventId` is the first event's. */
  | { readonly replayed: true; readonly eventId: string };

/**
 * `appendEvent`, unless the entry's flow already stored an event with this idempotency key
 * within its ttl. Check, append and key are one script: one round trip, atomic.
 */
export async function appendEventOnce(redis: Redis, keys: FanoutKeys, entry: EventEntry, recordTtlMs: number, idempotency: IdempotencyKey): Promise<AppendOnceResult> {
  const [outcome, id] = await withScript<AppendEventOnceCommand>(redis, APPEND_EVENT_ONCE_SCRIPT).fanoutAppendEventOnce(
    keys.eventStream,
    keys.event(entry.id),
    keys.idempotency(entry.flow, idempotency.key),
    recordTtlMs,
    idempotency.ttlMs,
    ...encodeEventEntry(entry),
  );
  return outcome === 'replayed' ? { replayed: true, eventId: id } : { replayed: false, streamId: id };
}

/** How much longer than WAIT's own timeout the client waits for its answer before giving up on Redis, in ms. */
const WAIT_ANSWER_MARGIN_MS = 1_000;

/**
 * Redis `WAIT`: blocks until `replicas` replicas have acknowledged every write this
 * connection made so far, or `timeoutMs` passed; resolves to how many did. Run it on the
 * connection that wrote. Its client-side timeout is WAIT's own plus a margin, so a
 * connection with a shorter `commandTimeout` (the `request` ones) still hears WAIT's answer.
 */
export async function waitForReplicas(redis: Redis, replicas: number, timeoutMs: number): Promise<number> {
  const command = new Command('wait', [replicas, timeoutMs], { replyEncoding: 'utf8' });
  // ioredis keeps the first timeout a command is given; the connection's commandTimeout comes second.
  command.setTimeout(timeoutMs + WAIT_ANSWER_MARGIN_MS);
  return Number(await redis.sendCommand(command));
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

/** New entries for this consumer, waiting up to `blockMs` when there are none; without `blockMs`, answers at once. */
export async function readNewEvents(redis: Redis, keys: FanoutKeys, consumer: string, count: number, blockMs?: number): Promise<StreamBatch> {
  const block = blockMs === undefined ? [] : ['BLOCK', blockMs];
  const reply = (await redis.callBuffer('XREADGROUP', ['GROUP', DISPATCHER_GROUP, consumer, 'COUNT', count, ...block, 'STREAMS', keys.eventStream, '>'])) as
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
