import { recordBucketTtlMs, runScript, type PartitionKeys } from '@fanout/redis';
import type { Redis } from 'ioredis';
import type { DeliveryStatus } from './records.js';
import { DELIVERY_SCRIPTS } from './scripts.js';

const RECORD_DISPATCHES = DELIVERY_SCRIPTS.get('recordDispatches');

/** An event about to be dispatched: where its record comes from, and what each of its destinations gets. */
export interface EventDispatchRecords {
  readonly eventId: string;
  readonly flow: string;
  /** Unix ms. */
  readonly receivedAt: number;
  readonly streamId: string;
  /** Every destination of the flow: true when it gets a job, false when its filter turned the event away. */
  readonly destinations: ReadonlyMap<string, boolean>;
}

/**
 * The dispatch transition, for a batch of events in one script (one command, one round trip):
 * each delivery's first record, pending or filtered; a record that exists is left as it is,
 * an event record that expired is written again whole (a bucket made again is kept `recordTtlMs`), and each queued
 * delivery not yet settled is opened (kept from the stream trim) before its job exists.
 *
 * Answers, per event, the status of each queued destination, by destination.
 */
export async function recordDispatches(redis: Redis, partition: PartitionKeys, events: readonly EventDispatchRecords[], recordTtlMs: number, now: number): Promise<Map<string, DeliveryStatus>[]> {
  if (events.length === 0) return [];
  const eventKeys: string[] = [];
  const args: (string | number)[] = [recordBucketTtlMs(recordTtlMs), now];
  for (const { eventId, flow, receivedAt, streamId, destinations } of events) {
    eventKeys.push(partition.eventRecords(eventId), partition.deadLetterEvent(eventId));
    args.push(eventId, flow, receivedAt, streamId, destinations.size);
    for (const [destination, queued] of destinations) args.push(destination, queued ? 'queued' : 'filtered');
  }
  const statuses = await runScript<DeliveryStatus[][]>(redis, RECORD_DISPATCHES, [1 + eventKeys.length, partition.openDeliveries, ...eventKeys, ...args]);
  return events.map(({ destinations }, e) => {
    const queued = [...destinations].filter(([, isQueued]) => isQueued).map(([destination]) => destination);
    return new Map(queued.map((destination, i) => [destination, statuses[e]![i]!] as const));
  });
}
