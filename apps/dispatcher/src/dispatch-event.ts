import type { Flow } from '@fanout/flows';
import { DELIVERY_JOB_NAME, deliveryJobOptions, type DeliveryJob, type DeliveryQueue } from '@fanout/queues';
import type { DeliveryRecord, EventDispatchRecords, StreamEvent } from '@fanout/redis';
import { matchDestinations } from './match-destinations.js';

/** Looks a loaded flow up by name; undefined once the flow is no longer loaded. */
export type FindFlow = (name: string) => Flow | undefined;

/** The part of a destination queue the dispatcher uses. */
export type JobQueue = Pick<DeliveryQueue, 'name' | 'addBulk'>;

/** Finds the queue of one destination (`DeliveryQueues` is one). */
export interface QueueLookup {
  get(flow: string, destination: string): JobQueue | undefined;
}

/** One `addBulk` item: a delivery job with the options its destination's policy gives it. */
export type DeliveryJobSpec = Parameters<JobQueue['addBulk']>[0][number];

/** A delivery to create: its job, and the queue of its destination. */
export interface PlannedDelivery {
  readonly queue: JobQueue;
  readonly job: DeliveryJobSpec;
}

/** What dispatching one event amounts to: records, jobs and filtered destinations, or why it cannot be dispatched. */
export type EventDispatch =
  | (Omit<EventDispatchRecords, 'queued'> & {
      readonly kind: 'dispatch';
      readonly deliveries: readonly PlannedDelivery[];
      /** Destinations whose filter turned the event away. */
      readonly filtered: readonly string[];
    })
  | { readonly kind: 'undispatchable'; readonly streamId: string; readonly eventId?: string; readonly flow?: string; readonly reason: string };

export interface DispatchEventDeps {
  readonly findFlow: FindFlow;
  readonly queues: QueueLookup;
}

/**
 * Decides what one event becomes: a `pending` record and a job per destination its filter
 * lets through, a `filtered` record for every other destination. No I/O: `dispatchBatch`
 * writes the records and adds the jobs of a whole batch at once.
 *
 * @param now Unix ms written as the records' `updatedAt`.
 */
export function dispatchEvent({ streamId, entry }: StreamEvent, { findFlow, queues }: DispatchEventDeps, now: number): EventDispatch {
  const undispatchable = (reason: string): EventDispatch => ({ kind: 'undispatchable', streamId, eventId: entry.id, flow: entry.flow, reason });
  const flow = findFlow(entry.flow);
  if (!flow) return undispatchable(`flow "${entry.flow}" is not loaded`);

  const { matched, filtered } = matchDestinations(flow.destinations, entry.body);
  const records = new Map<string, DeliveryRecord>();
  const deliveries: PlannedDelivery[] = [];
  for (const destination of matched) {
    const queue = queues.get(flow.name, destination.name);
    if (!queue) return undispatchable(`flow "${flow.name}" has no queue for destination "${destination.name}"`);
    const data: DeliveryJob = { eventId: entry.id, streamId, flow: flow.name, destination: destination.name, receivedAt: entry.receivedAt };
    deliveries.push({ queue, job: { name: DELIVERY_JOB_NAME, data, opts: deliveryJobOptions(destination, entry.id) } });
    records.set(destination.name, { status: 'pending', attempts: 0, updatedAt: now });
  }
  for (const destination of filtered) records.set(destination.name, { status: 'filtered', attempts: 0, updatedAt: now });

  return { kind: 'dispatch', streamId, eventId: entry.id, flow: flow.name, receivedAt: entry.receivedAt, records, deliveries, filtered: filtered.map(({ name }) => name) };
}
