import { FanoutError, newEventId } from '@fanout/core';
import type { FanoutMetrics, Logger } from '@fanout/observability';
import { appendEvent, type EventEntry, type FanoutKeys } from '@fanout/redis';
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
}

/** What the ingress took from one webhook request. */
export interface InboundEvent {
  readonly flow: string;
  /** The request's Content-Type as sent, '' when it had none. */
  readonly contentType: string;
  readonly body: Buffer;
}

/**
 * Writes the event once to the event stream (with its event record) and returns its id.
 * When this resolves the event is in Redis; any Redis failure becomes REDIS_UNAVAILABLE,
 * because the client can only retry. A timed-out write may still have landed, so a retry
 * can store the webhook twice: at-least-once, as everywhere else.
 */
export async function acceptEvent(deps: AcceptEventDeps, inbound: InboundEvent): Promise<string> {
  const entry: EventEntry = { id: newEventId(), receivedAt: deps.now(), ...inbound };
  try {
    await appendEvent(deps.redis, deps.keys, entry, deps.eventRecordTtlMs);
  } catch (error) {
    deps.logger.warn({ err: error, flow: entry.flow }, 'event.store_failed');
    throw new FanoutError('REDIS_UNAVAILABLE', 'the event could not be stored; retry later', { cause: error });
  }
  deps.metrics.eventsAccepted.inc({ flow: entry.flow });
  deps.logger.debug({ eventId: entry.id, flow: entry.flow, bytes: entry.body.length }, 'event.accepted');
  return entry.id;
}
