import { recordBucketTtlMs, runScript, type PartitionKeys } from '@fanout/redis';
import { Command, type Redis } from 'ioredis';
import { encodeEventEntry, type EventEntry } from './event-entry.js';
import { EVENT_LOG_SCRIPTS } from './scripts.js';

const APPEND = EVENT_LOG_SCRIPTS.get('appendEvent');
const APPEND_ONCE = EVENT_LOG_SCRIPTS.get('appendEventOnce');

/**
 * Appends the event to its partition's stream and creates its event record in one script, so
 * that `GET /events/:id` knows an event from the moment it is answered 202, and a crash can
 * never leave one without the other. Returns the stream entry id.
 */
export function appendEvent(redis: Redis, partition: PartitionKeys, entry: EventEntry, recordTtlMs: number): Promise<string> {
  return runScript<string>(redis, APPEND, [partition.stream, partition.eventRecords(entry.id), recordBucketTtlMs(recordTtlMs), ...encodeEventEntry(entry)]);
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
 * `appendEvent`, unless the entry's flow already stored an event with one of these
 * idempotency keys within its ttl. Check, append and keys are one script: one round trip,
 * atomic. Every key lives in `partition` (one script touches one slot), so the caller picks
 * the partition by the key that must always be found: the first.
 */
export async function appendEventOnce(redis: Redis, partition: PartitionKeys, entry: EventEntry, recordTtlMs: number, idempotency: readonly [IdempotencyKey, ...IdempotencyKey[]]): Promise<AppendOnceResult> {
  const keys = [partition.stream, partition.eventRecords(entry.id), ...idempotency.map(({ key }) => partition.idempotency(entry.flow, key))];
  const [outcome, id] = await runScript<['appended' | 'replayed', string]>(redis, APPEND_ONCE, [
    keys.length,
    ...keys,
    recordBucketTtlMs(recordTtlMs),
    ...idempotency.map(({ ttlMs }) => ttlMs),
    ...encodeEventEntry(entry),
  ]);
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
