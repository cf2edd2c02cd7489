import { v7 as uuidv7 } from 'uuid';

/**
 * A new event id: a UUIDv7, so ids sort by arrival time and carry no ':' (BullMQ job ids
 * may not). It is the `webhook-id` every destination sees on every attempt.
 */
export function newEventId(): string {
  return uuidv7();
}

const EVENT_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

export function isEventId(value: string): boolean {
  return EVENT_ID.test(value);
}
