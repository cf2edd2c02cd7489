import type { Redis } from 'ioredis';
import { z } from 'zod';
import type { FanoutKeys } from './keys.js';

/**
 * Where each delivery of an event stands. `pending`: queued, not yet attempted;
 * `retrying`: attempted and failed, another attempt is scheduled; `delivered`; `dead`:
 * dead-lettered; `filtered`: the destination's filter did not match, no job exists.
 */
export const DELIVERY_STATUSES = ['pending', 'delivered', 'retrying', 'dead', 'filtered'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

const deliveryRecordSchema = z.object({
  status: z.enum(DELIVERY_STATUSES),
  attempts: z.number().int().nonnegative(),
  lastError: z.string().optional(),
  lastStatusCode: z.number().int().optional(),
  deliveredAt: z.number().optional(),
  updatedAt: z.number(),
});
export type DeliveryRecord = z.infer<typeof deliveryRecordSchema>;

const attemptRecordSchema = z.object({
  attempt: z.number().int().positive(),
  /** Unix ms when the attempt started. */
  at: z.number(),
  durationMs: z.number().nonnegative(),
  outcome: z.enum(['delivered', 'retry', 'dead']),
  statusCode: z.number().int().optional(),
  error: z.string().optional(),
});
export type AttemptRecord = z.infer<typeof attemptRecordSchema>;

export interface EventRecord {
  readonly id: string;
  readonly flow: string;
  readonly receivedAt: number;
  readonly streamId: string;
  readonly deliveries: readonly ({ destination: string } & DeliveryRecord)[];
}

/** Attempt logs keep the newest this many attempts of a delivery. */
export const ATTEMPT_LOG_LENGTH = 50;

/** The event record's field of each delivery record is this prefix and the destination's name. */
export const DELIVERY_FIELD = 'd:';

/** Where delivery records are written: a connection, pipeline or MULTI of the caller's. */
export interface RecordWriter {
  hset(key: string, ...fieldsAndValues: (string | Buffer)[]): unknown;
}

/** The member of a delivery in the open deliveries (`keys.openDeliveries`). */
export function openDeliveryMember(eventId: string, destination: string): string {
  return `${eventId}:${destination}`;
}

/** Sets a delivery's record whatever it was (a replay puts a dead letter back to pending). */
export function writeDeliveryRecord(writer: RecordWriter, keys: FanoutKeys, eventId: string, destination: string, record: DeliveryRecord): void {
  writer.hset(keys.event(eventId), DELIVERY_FIELD + destination, JSON.stringify(record));
}

export async function readEventRecord(redis: Redis, keys: FanoutKeys, eventId: string): Promise<EventRecord | undefined> {
  const hash = await redis.hgetall(keys.event(eventId));
  if (!hash['flow'] || !hash['streamId']) return undefined;
  const deliveries: ({ destination: string } & DeliveryRecord)[] = [];
  for (const [field, value] of Object.entries(hash)) {
    if (!field.startsWith(DELIVERY_FIELD)) continue;
    deliveries.push({ destination: field.slice(DELIVERY_FIELD.length), ...deliveryRecordSchema.parse(JSON.parse(value)) });
  }
  deliveries.sort((a, b) => a.destination.localeCompare(b.destination));
  return { id: eventId, flow: hash['flow'], receivedAt: Number(hash['receivedAt']), streamId: hash['streamId'], deliveries };
}

export async function readDeliveryRecord(redis: Redis, keys: FanoutKeys, eventId: string, destination: string): Promise<DeliveryRecord | undefined> {
  const value = await redis.hget(keys.event(eventId), DELIVERY_FIELD + destination);
  return value === null ? undefined : deliveryRecordSchema.parse(JSON.parse(value));
}

export async function readAttempts(redis: Redis, keys: FanoutKeys, eventId: string, destination: string): Promise<AttemptRecord[]> {
  const values = await redis.lrange(keys.attempts(eventId, destination), 0, -1);
  return values.map((value) => attemptRecordSchema.parse(JSON.parse(value)));
}
