import type { Destination, Flow } from '@fanout/flows';

/**
 * One BullMQ queue per destination: `<flow>.<destination>`. Both names are [a-z0-9-], so the
 * dot cannot be ambiguous, and BullMQ forbids ':' in queue names.
 */
export function deliveryQueueName(flow: string, destination: string): string {
  return `${flow}.${destination}`;
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
