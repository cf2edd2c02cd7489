import { recordBucketTtlMs, runScript, type PartitionKeys } from '@fanout/redis';
import type { Redis } from 'ioredis';
import type { DeliveryStatus } from './records.js';
import { DELIVERY_SCRIPTS } from './scripts.js';

const RECORD_DISPATCHES = DELIVERY_SCRIPTS.get('recordDispatches');

/** What dispatch makes of one destination of an event: a job, a filtered record, or a place in an ordered destination's line. */
export type DispatchMode = 'queued' | 'filtered' | { readonly line: string };

/** An event about to be dispatched: where its record comes from, and what each of its destinations gets. */
export interface EventDispatchRecords {
  readonly eventId: string;
  readonly flow: string;
  /** Unix ms. */
  readonly receivedAt: number;
  readonly streamId: string;
  /** Every destination of the flow, by name. */
  readonly destinations: ReadonlyMap<string, DispatchMode>;
}

/**
 * The dispatch transition, for a batch of events in one script (one command, one round trip):
 * each delivery's first record, pending or filtered (or held, behind an earlier delivery of
 * its line); a record that exists is left as it is, an event record that expired is written
 * again whole (a bucket made again is kept `recordTtlMs`), and each queued delivery not yet
 * settled is opened (kept from the stream trim) before its job exists. Only the holder of the
 * partition's dispatch lease (`leaseToken`) may write: the script refuses anyone else with
 * NOTOWNER.
 *
 * Answers, per event, the status of each queued or ordered destination, by destination.
 */
export async function recordDispatches(
  redis: Redis,
  partition: PartitionKeys,
  events: readonly EventDispatchRecords[],
  { recordTtlMs, now, leaseToken }: { readonly recordTtlMs: number; readonly now: number; readonly leaseToken: string },
): Promise<Map<string, DeliveryStatus>[]> {
  if (events.length === 0) return [];
  const eventKeys: string[] = [];
  const lineKeys = new Map<string, number>();
  const fixedKeys = 3;
  const perEvent: (string | number)[] = [];
  for (const { eventId, flow, receivedAt, streamId, destinations } of events) {
    eventKeys.push(partition.eventRecords(eventId), partition.deadLetterEvent(eventId));
    perEvent.push(eventId, flow, receivedAt, streamId, destinations.size);
    for (const [destination, mode] of destinations) {
      if (typeof mode === 'string') {
        perEvent.push(destination, mode);
        continue;
      }
      const key = partition.line(mode.line);
      // Lua counts KEYS from 1: the line's index comes after the fixed keys and every event's two.
      if (!lineKeys.has(key)) lineKeys.set(key, fixedKeys + 2 * events.length + lineKeys.size + 1);
      perEvent.push(destination, 'ordered', lineKeys.get(key)!);
    }
  }
  const keys = [partition.openDeliveries, partition.dispatchLease, partition.lines, ...eventKeys, ...lineKeys.keys()];
  const statuses = await runScript<DeliveryStatus[][]>(redis, RECORD_DISPATCHES, [keys.length, ...keys, recordBucketTtlMs(recordTtlMs), now, leaseToken, events.length, ...perEvent]);
  return events.map(({ destinations }, e) => {
    const queued = [...destinations].filter(([, mode]) => mode !== 'filtered').map(([destination]) => destination);
    return new Map(queued.map((destination, i) => [destination, statuses[e]![i]!] as const));
  });
}
