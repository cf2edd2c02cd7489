import { recordDispatches, type DeliveryStatus, type DispatchMode } from '@fanout/delivery';
import { holdDispatchLease } from '@fanout/event-log';
import type { PartitionKeys } from '@fanout/redis';
import type { Redis } from 'ioredis';

/** An event to record as dispatched: per destination `true` (a job), `false` (filtered) or `{ line }` (an ordered destination's line). */
export interface TestDispatch {
  readonly eventId: string;
  readonly flow: string;
  readonly receivedAt: number;
  readonly streamId: string;
  readonly destinations: ReadonlyMap<string, boolean | { readonly line: string }>;
}

/** The dispatch lease's token of the tests that write records as a dispatcher would. */
export const TEST_DISPATCHER = 'test-dispatcher';

/**
 * Writes the dispatch records of `events` as the dispatcher does, holding the partition's
 * dispatch lease as it must (under TEST_DISPATCHER; a test running a real dispatcher on the
 * same partition must not use this).
 */
export async function recordAsDispatched(redis: Redis, partition: PartitionKeys, events: readonly TestDispatch[], recordTtlMs: number, now: number): Promise<Map<string, DeliveryStatus>[]> {
  if (!(await holdDispatchLease(redis, partition, TEST_DISPATCHER, 60_000))) throw new Error('a dispatcher holds the partition: recordAsDispatched writes as one, with no other running');
  const mode = (value: boolean | { readonly line: string }): DispatchMode => (typeof value === 'boolean' ? (value ? 'queued' : 'filtered') : value);
  return recordDispatches(
    redis,
    partition,
    events.map((event) => ({ ...event, destinations: new Map([...event.destinations].map(([name, value]) => [name, mode(value)])) })),
    { recordTtlMs, now, leaseToken: TEST_DISPATCHER },
  );
}
