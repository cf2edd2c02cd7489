import type { DispatchMode, EventDispatchRecords } from '@fanout/delivery';
import type { StreamEvent } from '@fanout/event-log';
import { deliveryJob, deliveryQueueName, orderLineName, type DeliveryJobSpec, type DeliveryQueue } from '@fanout/queues';
import type { FlowPlans } from './flow-plans.js';
import { matchDestinations } from './match-destinations.js';

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
  /** The plan of each event's flow version (its `prepare` has run for the batch). */
  readonly plans: FlowPlans;
  /** The queue of any destination a plan names, this process's flows' or not. */
  readonly queues: QueueLookup;
}

/**
 * Decides what one event becomes, by the plan of the flow version that accepted it: a
 * pending delivery and its job for every destination its filter lets through (at an ordered
 * destination, a place in the line of its key: its job is added only if it is first), a
 * filtered one for every other destination. No I/O: `dispatchBatch` writes the records and
 * adds the jobs of a whole batch at once.
 */
export function dispatchEvent({ streamId, entry }: StreamEvent, { plans, queues }: DispatchEventDeps): EventDispatch {
  const undispatchable = (reason: string): EventDispatch => ({ kind: 'undispatchable', streamId, eventId: entry.id, flow: entry.flow, reason });
  const plan = plans.planFor(entry);
  if (!plan) {
    return undispatchable(
      entry.flowVersion === undefined ? `flow "${entry.flow}" is not loaded` : `flow "${entry.flow}" version ${entry.flowVersion} is neither loaded here nor published by the process that accepted it`,
    );
  }

  const { matched, filtered, orderKeys } = matchDestinations(plan.destinations, entry.body);
  const destinations = new Map<string, DispatchMode>();
  const deliveries: PlannedDelivery[] = [];
  const event = { eventId: entry.id, streamId, flow: plan.flow, receivedAt: entry.receivedAt };
  for (const destination of matched) {
    const queue = queues.get(plan.flow, destination.name);
    if (!queue) return undispatchable(`flow "${plan.flow}" has no queue for destination "${destination.name}"`);
    const line = destination.ordering === 'none' ? undefined : orderLineName(deliveryQueueName(plan.flow, destination.name), orderKeys.get(destination) ?? '');
    deliveries.push({ queue, job: deliveryJob(destination, line === undefined ? event : { ...event, line }) });
    destinations.set(destination.name, line === undefined ? 'queued' : { line });
  }
  for (const destination of filtered) destinations.set(destination.name, 'filtered');

  return { kind: 'dispatch', ...event, destinations, deliveries, filtered: filtered.map(({ name }) => name) };
}
