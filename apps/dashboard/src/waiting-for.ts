import { readEventPayload, readLineHead } from '@fanout/delivery';
import { orderKeyAt, type Destination } from '@fanout/flows';
import { deliveryQueueName, orderLineName } from '@fanout/queues';
import type { PartitionKeys } from '@fanout/redis';
import type { Redis } from 'ioredis';

/** The event an ordered destination's held delivery waits for: the first of its line. */
export interface HeldDelivery {
  readonly flow: string;
  readonly destination: Destination;
  readonly eventId: string;
  readonly streamId: string;
}

/**
 * Which event a held delivery waits for, where that can be known: the first of its line,
 * which is the destination's one line (fifo), or its key's (read from the payload while it is
 * stored). Undefined for a destination that is not ordered, or whose payload is gone.
 */
export async function waitingFor(redis: Redis, partition: PartitionKeys, { flow, destination, eventId, streamId }: HeldDelivery): Promise<string | undefined> {
  const { ordering } = destination;
  if (ordering === 'none') return undefined;
  let key = '';
  if (typeof ordering === 'object') {
    const event = await readEventPayload(redis, partition, eventId, streamId);
    if (!event) return undefined;
    key = orderKeyAt(parsedOrUndefined(event.body), ordering.key);
  }
  const head = await readLineHead(redis, partition, orderLineName(deliveryQueueName(flow, destination.name), key));
  return head && head.eventId !== eventId ? head.eventId : undefined;
}

function parsedOrUndefined(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8')) as unknown;
  } catch {
    return undefined;
  }
}
