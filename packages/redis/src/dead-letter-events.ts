import type { Redis } from 'ioredis';
import type { RecordWriter } from './delivery-records.js';
import { decodeEventEntry, encodeEventEntry, type EventEntry } from './event-entry.js';
import type { FanoutKeys } from './keys.js';

/**
 * Keeps a copy of a dead-lettered delivery's event for `retentionMs`, so a replay still finds
 * the body once retention trimmed the stream entry. Queued on the caller's MULTI, beside the
 * record that says `dead`. One copy per event, for the longest retention of its dead
 * destinations.
 */
export function keepDeadLetterEvent(writer: RecordWriter, keys: FanoutKeys, entry: EventEntry, retentionMs: number): void {
  const key = keys.deadLetterEvent(entry.id);
  writer.hset(key, ...encodeEventEntry(entry));
  // NX gives a new copy its ttl; GT lengthens an existing copy's when this retention ends later.
  writer.pexpire(key, retentionMs, 'NX');
  writer.pexpire(key, retentionMs, 'GT');
}

/** The copy `keepDeadLetterEvent` made, or undefined when there is none (or it expired). */
export async function readDeadLetterEvent(redis: Redis, keys: FanoutKeys, eventId: string): Promise<EventEntry | undefined> {
  // callBuffer skips ioredis's object conversion: the flat field/value list is what decodeEventEntry reads.
  const fields = (await redis.callBuffer('HGETALL', keys.deadLetterEvent(eventId))) as Buffer[];
  return fields.length > 0 ? decodeEventEntry(fields) : undefined;
}
