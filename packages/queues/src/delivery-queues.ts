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
  /** The destinations of the flows in force (the last `use`). */
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
  /** The flows in force from now on (a reload): `destinations`, `get` and `readDepths` follow them. Queues already open stay open. */
  use(flows: readonly Flow[]): void;
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
  /** Every queue opened, whether a destination of the flows in force or not. */
  const opened = new Map<string, DeliveryQueue>();
  const queueNamed = (name: string): DeliveryQueue => {
    let queue = opened.get(name);
    if (!queue) opened.set(name, (queue = openDeliveryQueue(name, connection, keys.bullPrefix)));
    return queue;
  };
  let destinations: readonly DestinationQueue[] = [];
  let byName = new Map<string, DeliveryQueue>();
  const use = (next: readonly Flow[]): void => {
    destinations = destinationQueues(next);
    byName = new Map(destinations.map(({ name }) => [name, queueNamed(name)] as const));
  };
  use(flows);
  return {
    get byName() {
      return byName;
    },
    get destinations() {
      return destinations;
    },
    get: (flow, destination) => byName.get(deliveryQueueName(flow, destination)),
    queueFor: (flow, destination) => queueNamed(deliveryQueueName(flow, destination)),
    readDepths: () => {
      const current = byName;
      return Promise.all(
        destinations.map(async ({ name, flow, destination }) => {
          const counts = await current.get(name)!.getJobCounts('waiting', 'delayed', 'active', 'failed');
          return { flow: flow.name, destination: destination.name, waiting: counts['waiting'] ?? 0, delayed: counts['delayed'] ?? 0, active: counts['active'] ?? 0, failed: counts['failed'] ?? 0 };
        }),
      );
    },
    use,
    close: async () => void (await Promise.all([...opened.values()].map((queue) => queue.close()))),
  };
}
