import type { Flow } from '@fanout/flows';
import type { QueueDepth } from '@fanout/observability';
import type { FanoutKeys } from '@fanout/redis';
import { Queue, type ConnectionOptions } from 'bullmq';
import type { DeliveryJob } from './delivery-job.js';
import { QUEUE_EVENTS_KEPT } from './job-options.js';
import { deliveryQueueName, destinationQueues, type DestinationQueue } from './queue-names.js';

export type DeliveryQueue = Queue<DeliveryJob>;

/** The BullMQ queue of every destination of the loaded flows, by queue name. */
export interface DeliveryQueues {
  readonly byName: ReadonlyMap<string, DeliveryQueue>;
  readonly destinations: readonly DestinationQueue[];
  /** The queue of one destination of the loaded flows; undefined when they have no such destination. */
  get(flow: string, destination: string): DeliveryQueue | undefined;
  /**
   * The queue of any destination, made on first use: a dispatcher adds jobs for the
   * destinations of flow versions other processes loaded (a rolling deploy).
   */
  queueFor(flow: string, destination: string): DeliveryQueue;
  /** Waiting, delayed, active and failed counts of every queue, for the queue-depth gauge. */
  readDepths(): Promise<QueueDepth[]>;
  close(): Promise<void>;
}

export interface DeliveryQueuesOptions {
  flows: readonly Flow[];
  /** Shared by every queue: an ioredis instance (with `maxRetriesPerRequest: null`) or options. */
  connection: ConnectionOptions;
  keys: FanoutKeys;
}

/**
 * A handle on one delivery queue. Every Queue fanout opens goes through here: opening one
 * writes the queue's settings to Redis (BullMQ's meta hash), and one opened with BullMQ's
 * defaults would set its events stream back to 10,000 entries.
 */
export function openDeliveryQueue(name: string, connection: ConnectionOptions, bullPrefix: string): DeliveryQueue {
  return new Queue<DeliveryJob>(name, { connection, prefix: bullPrefix, streams: { events: { maxLen: QUEUE_EVENTS_KEPT } } });
}

export function createDeliveryQueues({ flows, connection, keys }: DeliveryQueuesOptions): DeliveryQueues {
  const destinations = destinationQueues(flows);
  const open = (name: string): DeliveryQueue => openDeliveryQueue(name, connection, keys.bullPrefix);
  const byName = new Map(destinations.map(({ name }) => [name, open(name)] as const));
  const others = new Map<string, DeliveryQueue>();
  return {
    byName,
    destinations,
    get: (flow, destination) => byName.get(deliveryQueueName(flow, destination)),
    queueFor(flow, destination) {
      const name = deliveryQueueName(flow, destination);
      let queue = byName.get(name) ?? others.get(name);
      if (!queue) others.set(name, (queue = open(name)));
      return queue;
    },
    readDepths: () =>
      Promise.all(
        destinations.map(async ({ name, flow, destination }) => {
          // A paused queue keeps its waiting jobs in BullMQ's paused list: they wait all the same.
          const counts = await byName.get(name)!.getJobCounts('waiting', 'paused', 'delayed', 'active', 'failed');
          return { flow: flow.name, destination: destination.name, waiting: (counts['waiting'] ?? 0) + (counts['paused'] ?? 0), delayed: counts['delayed'] ?? 0, active: counts['active'] ?? 0, failed: counts['failed'] ?? 0 };
        }),
      ),
    close: async () => void (await Promise.all([...byName.values(), ...others.values()].map((queue) => queue.close()))),
  };
}
