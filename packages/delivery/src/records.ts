import { decodeEventEntry, readEvent, type EventEntry } from '@fanout/event-log';
import type { PartitionKeys } from '@fanout/redis';
import type { Redis } from 'ioredis';
import { z } from 'zod';

/**
 * Where a delivery stands. The transitions between them are the scripts in lua/, each one
 * atomic Redis step (docs/architecture.md draws the machine):
 * - `pending`: dispatched (it has a job), no attempt under way; also after a replay or a hand-back;
 * - `held`: waiting for an earlier delivery of its destination (ordering);
 * - `active`: an attempt is under way;
 * - `retrying`: an attempt failed and another is scheduled;
 * - `delivered`, `dead` (dead-lettered), `filtered` (the destination's filter turned it away; no job).
 */
export const DELIVERY_STATUSES = ['pending', 'held', 'active', 'retrying', 'delivered', 'dead', 'filtered'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

/** A delivery's status as the admin API names it: the contract's five; held and active read as pending. */
export const REPORTED_STATUSES = ['pending', 'delivered', 'retrying', 'dead', 'filtered'] as const;
export type ReportedStatus = (typeof REPORTED_STATUSES)[number];

export function reportedStatus(status: DeliveryStatus): ReportedStatus {
  return status === 'held' || status === 'active' ? 'pending' : status;
}

/**
 * A delivery record: one field of its event record, written only by the scripts in lua/
 * (includes/deliveryRecord.lua spells it). It keeps the delivery's outcome, not its history:
 * a delivery that failed at least once has an attempt log as well.
 */
export interface DeliveryRecord {
  readonly status: DeliveryStatus;
  /** The number of the last attempt started; 0 before the first. */
  readonly attempts: number;
  /** The last finished attempt's status code, where its kind has one (HTTP). */
  readonly statusCode?: number;
  /** Unix ms of the last change: when the delivery was delivered, the last attempt ended or began, or it was dispatched or replayed. */
  readonly at: number;
  /** The last finished attempt's duration, ms. */
  readonly durationMs?: number;
  /** Why the last attempt did not deliver, in a few words: `HTTP 500`, `timeout after 5000 ms`, `ECONNREFUSED`. */
  readonly error?: string;
}

const RECORD = /^([a-z]+)\|(\d+)\|(\d*)\|(\d+)\|(\d*)\|(.*)$/s;

export function decodeDeliveryRecord(value: string): DeliveryRecord {
  const match = RECORD.exec(value);
  const status = match?.[1] as DeliveryStatus | undefined;
  if (!match || !status || !DELIVERY_STATUSES.includes(status)) throw new Error(`not a delivery record: ${JSON.stringify(value)}`);
  const [, , attempts, statusCode, at, durationMs, error] = match;
  return {
    status,
    attempts: Number(attempts),
    ...(statusCode ? { statusCode: Number(statusCode) } : {}),
    at: Number(at),
    ...(durationMs ? { durationMs: Number(durationMs) } : {}),
    ...(error ? { error } : {}),
  };
}

/** How an attempt ended. `interrupted`: cut short before its outcome was known (a worker died, stopped, or lost the job). */
export const ATTEMPT_OUTCOMES = ['delivered', 'retry', 'dead', 'interrupted'] as const;
export type AttemptOutcomeName = (typeof ATTEMPT_OUTCOMES)[number];

const attemptRecordSchema = z.object({
  attempt: z.number().int().positive(),
  /** Unix ms when the attempt started. */
  at: z.number(),
  durationMs: z.number().nonnegative().optional(),
  outcome: z.enum(ATTEMPT_OUTCOMES),
  statusCode: z.number().int().optional(),
  error: z.string().optional(),
  /** What the destination answered (the start of its body, or its error), on the newest attempt only. */
  response: z.string().optional(),
});
/** One entry of a delivery's attempt log. */
export type AttemptRecord = z.infer<typeof attemptRecordSchema>;

/** Attempt logs keep the newest this many attempts of a delivery. */
export const ATTEMPT_LOG_LENGTH = 50;

/** The record of one event and of its deliveries, as stored. */
export interface EventRecord {
  readonly id: string;
  readonly flow: string;
  readonly receivedAt: number;
  readonly streamId: string;
  readonly deliveries: readonly ({ readonly destination: string } & DeliveryRecord)[];
}

const EVENT_RECORD_HEAD = /^([^|]+)\|(-?\d+)\|(-?\d+)-(\d+)$/;
const DELIVERY_AT = /^([^|]*\|[^|]*\|[^|]*\|)(-?\d+)(.*)$/s;

/**
 * Decodes an event record as lua/includes/eventRecord.lua spells it:
 * `<flow>|<receivedAt>|<stream id>;<destination>=<delivery record>;…`, the stream id's ms
 * part and each delivery's `at` stored as ms after receivedAt.
 */
export function decodeEventRecord(eventId: string, value: string): EventRecord {
  const [head = '', ...parts] = value.split(';');
  const match = EVENT_RECORD_HEAD.exec(head);
  if (!match) throw new Error(`not an event record: ${JSON.stringify(value)}`);
  const [, flow = '', received, streamAfter, streamSeq] = match;
  const receivedAt = Number(received);
  const deliveries = parts.map((part) => {
    const equals = part.indexOf('=');
    const at = DELIVERY_AT.exec(part.slice(equals + 1));
    if (equals < 1 || !at) throw new Error(`not an event record: ${JSON.stringify(value)}`);
    return { destination: part.slice(0, equals), ...decodeDeliveryRecord(`${at[1]}${receivedAt + Number(at[2])}${at[3]}`) };
  });
  deliveries.sort((a, b) => a.destination.localeCompare(b.destination));
  return { id: eventId, flow, receivedAt, streamId: `${receivedAt + Number(streamAfter)}-${streamSeq}`, deliveries };
}

/** The dead-letter copy's field that holds the event record, for a dead letter's retention (see eventRecord.lua). */
const COPY_RECORD_FIELD = 'record';

export async function readEventRecord(redis: Redis, partition: PartitionKeys, eventId: string): Promise<EventRecord | undefined> {
  const value = (await redis.hget(partition.eventRecords(eventId), eventId)) ?? (await redis.hget(partition.deadLetterEvent(eventId), COPY_RECORD_FIELD));
  return value === null ? undefined : decodeEventRecord(eventId, value);
}

export async function readDeliveryRecord(redis: Redis, partition: PartitionKeys, eventId: string, destination: string): Promise<DeliveryRecord | undefined> {
  const delivery = (await readEventRecord(redis, partition, eventId))?.deliveries.find((candidate) => candidate.destination === destination);
  if (!delivery) return undefined;
  const { destination: _destination, ...record } = delivery;
  return record;
}

/** A delivery's attempt log, oldest first: empty for one that never failed. */
export async function readAttempts(redis: Redis, partition: PartitionKeys, eventId: string, destination: string): Promise<AttemptRecord[]> {
  const values = await redis.lrange(partition.attempts(eventId, destination), 0, -1);
  return values.map((value) => attemptRecordSchema.parse(JSON.parse(value)));
}

/** The newest entry of a delivery's attempt log, or undefined when it has none. */
export async function readLastAttempt(redis: Redis, partition: PartitionKeys, eventId: string, destination: string): Promise<AttemptRecord | undefined> {
  const value = await redis.lindex(partition.attempts(eventId, destination), -1);
  return value === null ? undefined : attemptRecordSchema.parse(JSON.parse(value));
}

/**
 * What a delivery's attempts were: its attempt log, or, for a delivery delivered at its
 * first attempt (which has none), that attempt as its record tells it.
 */
export function attemptsOf(record: DeliveryRecord, log: readonly AttemptRecord[]): AttemptRecord[] {
  if (log.length > 0 || record.status !== 'delivered') return [...log];
  const durationMs = record.durationMs ?? 0;
  return [{ attempt: record.attempts, at: record.at - durationMs, durationMs, outcome: 'delivered', ...(record.statusCode === undefined ? {} : { statusCode: record.statusCode }) }];
}

/**
 * The event a delivery sends: its stream entry, or once retention trimmed that, the copy a
 * dead letter keeps; undefined when neither is stored.
 */
export async function readEventPayload(redis: Redis, partition: PartitionKeys, eventId: string, streamId: string): Promise<EventEntry | undefined> {
  const streamed = await readEvent(redis, partition, streamId);
  if (streamed) return streamed;
  // Not callBuffer: auto-pipelining connections break it (see ConnectionOptions.autoPipelining).
  const fields = Object.entries(await redis.hgetallBuffer(partition.deadLetterEvent(eventId))).filter(([field]) => field !== COPY_RECORD_FIELD);
  return fields.some(([field]) => field === 'body') ? decodeEventEntry(fields.flatMap(([field, value]) => [Buffer.from(field), value])) : undefined;
}
