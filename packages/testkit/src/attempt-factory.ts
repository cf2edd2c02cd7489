import { newEventId } from '@fanout/core';
import type { DeliveryAttempt } from '@fanout/destinations';

/** A first attempt of a fresh event with a small JSON body, started now, that nothing aborts. */
export function deliveryAttempt(overrides: Partial<DeliveryAttempt> = {}): DeliveryAttempt {
  return {
    eventId: newEventId(),
    flow: 'payments',
    receivedAt: Date.now(),
    body: Buffer.from('{"type":"payment.succeeded"}'),
    contentType: 'application/json',
    attempt: 1,
    startedAt: Date.now(),
    signal: new AbortController().signal,
    ...overrides,
  };
}
