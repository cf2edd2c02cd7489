import type { EventDispatchRecords } from '@fanout/delivery';
import type { StreamEvent } from '@fanout/event-log';
import type { Flow } from '@fanout/flows';
import { deliveryJob, type DeliveryJobSpec, type DeliveryQueue } from '@fanout/queues';
import { matchDestinations } from './match-destinations.js';

/** Looks a loaded flow up by name; undefined once the flow is no longer loaded. */
export type FindFlow = (name: string) => Flow | undefined;

/** The part of a destination queue the dispatcher uses. */
export type JobQueue = Pick<DeliveryQueue, 'name' | 'addBulk'>;

/** Finds the queue of one destination (`DeliveryQueues` is one). */
export interface QueueLookup {
  get(flow: string, destination: string): JobQueue | undefined;
}

/** A delivery to create: its job, and the queue of its destination. */
export interface PlannedDelivery {
  readonly queue: JobQueue;
  readonly job: DeliveryJobSpec;
}

/** What dispatching one event amounts to: records, jobs and filtered destinations, or why it cannot be dispatched. */
export type EventDispatch =
  | (EventDispatchRecords & {
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
 * Decides what one event becomes: a pending delivery and its job for every destination its
 * filter lets through, a filtered one for every other destination. No I/O: `dispatchBatch`
 * writes the records and adds the jobs of a whole batch at once.
 */
export function dispatchEvent({ streamId, entry }: StreamEvent, { findFlow, queues }: DispatchEventDeps): EventDispatch {
  const undispatchable = (reason: string): EventDispatch => ({ kind: 'undispatchable', streamId, eventId: entry.id, flow: entry.flow, reason });
  const flow = findFlow(entry.flow);
  if (!flow) return undispatchable(`flow "${entry.flow}" is not loaded`);

  const { matched, filtered } = matchDestinations(flow.destinations, entry.body);
  const destinations = new Map<string, boolean>();
  const deliveries: PlannedDelivery[] = [];
  const event = { eventId: entry.id, streamId, flow: flow.name, receivedAt: entry.receivedAt };
  for (const destination of matched) {
    const queue = queues.get(flow.name, destination.name);
    if (!queue) return undispatchable(`flow "${flow.name}" has no queue for destination "${destination.name}"`);
    deliveries.push({ queue, job: deliveryJob(destination, event) });
    destinations.set(destination.name, true);
  }
  for (const destination of filtered) destinations.set(destination.name, false);

  return { kind: 'dispatch', ...event, destinations, deliveries, filtered: filtered.map(({ name }) => name) };
}
