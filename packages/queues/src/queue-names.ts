import { createHash } from 'node:crypto';
import type { Destination, Flow } from '@fanout/flows';

/**
 * One BullMQ queue per destination: `<flow>.<destination>`. Both names are [a-z0-9-], so the
 * dot cannot be ambiguous, and BullMQ forbids ':' in queue names.
 */
export function deliveryQueueName(flow: string, destination: string): string {
  return `${flow}.${destination}`;
}

/**
 * The line of an ordered destination's delivery (see PartitionKeys.line): `<queue>:<digest of
 * the ordering key>`, the key `""` for fifo. A digest keeps names short whatever the keys
 * (customer ids, any length); two keys sharing a digest only wait for each other.
 */
export function orderLineName(queue: string, orderKey: string): string {
  return `${queue}:${createHash('sha256').update(orderKey).digest('hex').slice(0, 16)}`;
}

export interface DestinationQueue {
  readonly name: string;
  readonly flow: Flow;
  readonly destination: Destination;
}

/** Every destination queue of the loaded flows, in flow then destination order. */
export function destinationQueues(flows: readonly Flow[]): DestinationQueue[] {
  return flows.flatMap((flow) => flow.destinations.map((destination) => ({ name: deliveryQueueName(flow.name, destination.name), flow, destination })));
}
