import type { AttemptOutcome } from '../attempt.js';
import { errorMessage, systemErrorCode } from '../error-facts.js';
import { isDestinationDenied } from '../network-guard.js';

/** One publish's raw result, before classifyAmqpResult. */
export type AmqpPublishResult =
  | { readonly kind: 'confirmed' }
  /** The broker confirmed it but routed it to no queue (mandatory: basic.return before the ack). */
  | { readonly kind: 'returned'; readonly replyCode: number; readonly replyText: string; readonly exchange: string; readonly routingKey: string }
  /** basic.nack: the broker could not take responsibility for it. */
  | { readonly kind: 'nacked' }
  | { readonly kind: 'failed'; readonly error: unknown; readonly timedOut: boolean };

/**
 * AMQP reply codes that are the broker's "never" for this destination as configured: access
 * refused (credentials, permissions), not found (the exchange), precondition failed (a message
 * above the broker's max size), not allowed (the vhost). Any other code closing a connection or
 * channel (320 connection forced, 505/506 resources, 541 internal error) is retried.
 */
const REFUSED_FOR_GOOD: ReadonlyMap<number, string> = new Map([
  [403, 'ACCESS-REFUSED'],
  [404, 'NOT-FOUND'],
  [406, 'PRECONDITION-FAILED'],
  [530, 'NOT-ALLOWED'],
]);

// amqplib writes a broker's close as "… by server: 404 (NOT-FOUND) with message …".
const REPLY_CODE = /\b(\d{3}) \(([A-Z-]+)\)/;

/**
 * How an AMQP publish is classified. Confirmed (ack) is delivered. A nack, a returned
 * (unroutable) message, a lost connection, a timeout waiting for the confirm, and reply codes
 * not named in REFUSED_FOR_GOOD are retried; those named there dead-letter at once, and so
 * does a broker address the network guard denies.
 */
export function classifyAmqpResult(result: AmqpPublishResult): AttemptOutcome {
  switch (result.kind) {
    case 'confirmed':
      return { kind: 'delivered' };
    case 'nacked':
      return { kind: 'retry', reason: 'AMQP nack: the broker did not take the message' };
    case 'returned':
      return { kind: 'retry', reason: `AMQP ${result.replyCode} ${result.replyText}: no queue is bound for routing key "${result.routingKey}" on exchange "${result.exchange}"` };
    case 'failed': {
      const message = errorMessage(result.error);
      if (isDestinationDenied(result.error)) return { kind: 'dead', reason: message };
      if (result.timedOut) return { kind: 'retry', reason: message };
      const reply = REPLY_CODE.exec(message);
      if (reply) {
        const reason = `AMQP ${reply[1]} ${reply[2]}`;
        return REFUSED_FOR_GOOD.has(Number(reply[1])) ? { kind: 'dead', reason } : { kind: 'retry', reason };
      }
      return { kind: 'retry', reason: systemErrorCode(result.error) ?? message };
    }
  }
}
