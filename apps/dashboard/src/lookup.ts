import { FanoutError, quoted } from '@fanout/core';
import type { Flow } from '@fanout/flows';
import type { DeliveryQueue, DeliveryQueues } from '@fanout/queues';

/** The loaded flow of that name; throws FLOW_NOT_FOUND when there is none (the process's `findFlow` answers undefined instead). */
export function requireFlow(flows: readonly Flow[], name: string): Flow {
  const flow = flows.find((candidate) => candidate.name === name);
  if (!flow) throw new FanoutError('FLOW_NOT_FOUND', `no flow named ${quoted(name)} is loaded`);
  return flow;
}

/** The queue of one destination, which is also its dead-letter queue (its failed set). */
export function findDestinationQueue(flows: readonly Flow[], queues: Pick<DeliveryQueues, 'get'>, flowName: string, destination: string): DeliveryQueue {
  requireFlow(flows, flowName);
  const queue = queues.get(flowName, destination);
  if (!queue) throw new FanoutError('DESTINATION_NOT_FOUND', `flow ${quoted(flowName)} has no destination named ${quoted(destination)}`);
  return queue;
}
