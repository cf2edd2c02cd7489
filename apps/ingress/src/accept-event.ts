import { FanoutError, newEventId } from '@fanout/core';
import type { FanoutMetrics, Logger } from '@fanout/observability';
import { appendEvent, appendEventOnce, waitForReplicas, type EventEntry, type IdempotencyKey } from '@fanout/event-log';
import { redisFailure, type FanoutKeys } from '@fanout/redis';
import type { Redis } from 'ioredis';

export interface AcceptEventDeps {
  readonly redis: Redis;
  readonly keys: FanoutKeys;
  readonly metrics: Pick<FanoutMetrics, 'eventsAccepted'>;
  readonly logger: Logger;
  /** How long the event record lives, in milliseconds. */
  readonly eventRecordTtlMs: number;
  /** Unix milliseconds. */
  readonly now: () => number;
  /** Replicas that must confirm the write (Redis WAIT) before it is answered; 0 waits for none. */
  readonly replicas: number;
  /** How long to wait for them, in milliseconds. */
  readonly replicaTimeoutMs: number;
}

/** What the ingress took from one webhook request. */
export interface InboundEvent {
  readonly flow: string;
  /** The version of the flow that accepts it: the event is dispatched by that version's plan. */
  readonly flowVersion: string;
  /** The request's Content-Type as sent, '' when it had none. */
  readonly contentType: string;
  readonly body: Buffer;
  /** Absent when the request carried none (see `idempotencyKeys`); the first decides the event's partition. */
  readonly idempotencyKeys?: readonly [IdempotencyKey, ...IdempotencyKey[]];
}

export interface AcceptedEvent {
  readonly id: string;
  /** The idempotency key was seen within its ttl: nothing was stored and `id` is the first event's. */
  readonly replayed: boolean;
}

/**
 * Writes the event once to the event stream (with its event record) and returns its id, or
 * the first event's id for a repeated idempotency key. When this resolves the event is in
 * Redis, and on as many replicas as `replicas` asks. A failed write says what is known of
 * the event's fate: REDIS_UNAVAILABLE, REDIS_MEMORY_FULL or REDIS_READONLY when Redis refused it or it was
 * never sent (not stored), REDIS_TIMEOUT when it was sent and no answer came (it may have
 * landed: a retry with the same idempotency key is answered with the first id).
 */
export async function acceptEvent(deps: AcceptEventDeps, inbound: InboundEvent): Promise<AcceptedEvent> {
  const { idempotencyKeys, ...fields } = inbound;
  const entry: EventEntry = { id: eventIdFor(deps.keys, inbound), receivedAt: deps.now(), ...fields };
  const accepted = await storeEvent(deps, entry, idempotencyKeys);
  if (accepted.replayed) {
    deps.logger.debug({ eventId: accepted.id, flow: entry.flow }, 'event.replayed');
  } else {
    deps.metrics.eventsAccepted.inc({ flow: entry.flow });
    deps.logger.debug({ eventId: entry.id, flow: entry.flow, bytes: entry.body.length }, 'event.accepted');
  }
  // A replay waits too: when this connection wrote the first event, its WAIT covers that write.
  if (deps.replicas > 0) await confirmOnReplicas(deps, accepted.id, entry.flow);
  return accepted;
}

/** A new event id, of the partition its first idempotency key's check lives in when it has one (one try per partition, on average). */
function eventIdFor(keys: FanoutKeys, { flow, idempotencyKeys }: InboundEvent): string {
  let id = newEventId();
  if (!idempotencyKeys || keys.partitions.length === 1) return id;
  const partition = keys.partitionForIdempotencyKey(flow, idempotencyKeys[0].key);
  while (keys.partitionOf(id) !== partition) id = newEventId();
  return id;
}

async function storeEvent(deps: AcceptEventDeps, entry: EventEntry, idempotencyKeys: InboundEvent['idempotencyKeys']): Promise<AcceptedEvent> {
  try {
    const partition = deps.keys.partitionOf(entry.id);
    if (!idempotencyKeys) {
      await appendEvent(deps.redis, partition, entry, deps.eventRecordTtlMs);
      return { id: entry.id, replayed: false };
    }
    const result = await appendEventOnce(deps.redis, partition, entry, deps.eventRecordTtlMs, idempotencyKeys);
    return result.replayed ? { id: result.eventId, replayed: true } : { id: entry.id, replayed: false };
  } catch (error) {
    const failure = storeFailure(error);
    deps.logger.warn({ err: error, flow: entry.flow, code: failure.code }, 'event.store_failed');
    throw failure;
  }
}

function storeFailure(error: unknown): FanoutError {
  switch (redisFailure(error)) {
    case 'out-of-memory':
      return new FanoutError('REDIS_MEMORY_FULL', 'Redis is out of memory: the event was not stored; retry later', { cause: error });
    case 'read-only':
      return new FanoutError('REDIS_READONLY', 'Redis is a read-only replica: the event was not stored; retry later', { cause: error });
    case 'unanswered':
      return new FanoutError('REDIS_TIMEOUT', 'Redis did not answer in time: the event may or may not be stored; retry with the same idempotency key to store it once', { cause: error });
    default:
      return new FanoutError('REDIS_UNAVAILABLE', 'Redis could not be reached: the event was not stored; retry later', { cause: error });
  }
}

async function confirmOnReplicas(deps: AcceptEventDeps, eventId: string, flow: string): Promise<void> {
  const { replicas, replicaTimeoutMs } = deps;
  let confirmed = 0;
  let failure: unknown;
  try {
    confirmed = await waitForReplicas(deps.redis, replicas, replicaTimeoutMs);
  } catch (error) {
    failure = error;
  }
  if (confirmed >= replicas) return;
  deps.logger.warn({ eventId, flow, replicas, confirmed, ...(failure !== undefined && { err: failure }) }, 'event.replication_timeout');
  throw new FanoutError(
    'REPLICATION_TIMEOUT',
    `event ${eventId} is stored, but ${confirmed} of ${replicas} replicas confirmed it within ${replicaTimeoutMs} ms; it may still be delivered, so a retry without an idempotency key can deliver it twice`,
    { cause: failure },
  );
}
