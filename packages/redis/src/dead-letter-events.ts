import type { Redis } from 'ioredis';
import { decodeEventEntry, type EventEntry } from './event-entry.js';
import type { FanoutKeys } from './keys.js';

/** The copy of a dead letter's event `writeDeliveryOutcome` kept, or undefined when there is none (or it expired). */
export async function readDeadLetterEvent(redis: Redis, keys: FanoutKeys, eventId: string): Promise<EventEntry | undefined> {
  // Not callBuffer: auto-pipelining connections break it (see ConnectionOptions.autoPipelining).
  const fields = Object.entries(await redis.hgetallBuffer(keys.deadLetterEvent(eventId)));
  return fields.length > 0 ? decodeEventEntry(fields.flatMap(([field, value]) => [Buffer.from(field), value])) : undefined;
}
