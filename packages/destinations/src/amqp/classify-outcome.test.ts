import { describe, expect, it } from '@jest/globals';
import { DestinationDeniedError } from '../network-guard.js';
import { classifyAmqpResult } from './classify-outcome.js';

const failed = (message: string, extra: Record<string, unknown> = {}) => ({ kind: 'failed' as const, error: Object.assign(new Error(message), extra), timedOut: false });

describe('classifyAmqpResult', () => {
  it('dead-letters a broker address the network guard denies at once, naming it', () => {
    expect(classifyAmqpResult({ kind: 'failed', error: new DestinationDeniedError('10.0.0.5'), timedOut: false })).toEqual({ kind: 'dead', reason: 'destination address 10.0.0.5 is denied' });
  });

  it('delivers a confirmed publish', () => {
    expect(classifyAmqpResult({ kind: 'confirmed' })).toEqual({ kind: 'delivered' });
  });

  it('retries a nack', () => {
    expect(classifyAmqpResult({ kind: 'nacked' })).toEqual({ kind: 'retry', reason: 'AMQP nack: the broker did not take the message' });
  });

  it('retries a returned (unroutable) message, naming where it went', () => {
    expect(classifyAmqpResult({ kind: 'returned', replyCode: 312, replyText: 'NO_ROUTE', exchange: 'events', routingKey: 'orders' })).toEqual({
      kind: 'retry',
      reason: 'AMQP 312 NO_ROUTE: no queue is bound for routing key "orders" on exchange "events"',
    });
  });

  it.each([
    ['Channel closed by server: 404 (NOT-FOUND) with message "NOT_FOUND - no exchange \'x\' in vhost \'/\'"', 'AMQP 404 NOT-FOUND'],
    ['Handshake terminated by server: 403 (ACCESS-REFUSED) with message "ACCESS_REFUSED - Login was refused"', 'AMQP 403 ACCESS-REFUSED'],
    ['Channel closed by server: 406 (PRECONDITION-FAILED) with message "message size 200000 is larger than configured max size 131072"', 'AMQP 406 PRECONDITION-FAILED'],
    ['Connection closed: 530 (NOT-ALLOWED) with message "vhost x not found"', 'AMQP 530 NOT-ALLOWED'],
  ])('dead-letters "%s" at once', (message, reason) => {
    expect(classifyAmqpResult(failed(message))).toEqual({ kind: 'dead', reason });
  });

  it.each([
    ['Connection closed: 320 (CONNECTION-FORCED) with message "CONNECTION_FORCED - Closed via management plugin"', 'AMQP 320 CONNECTION-FORCED'],
    ['Channel closed by server: 541 (INTERNAL-ERROR) with message "x"', 'AMQP 541 INTERNAL-ERROR'],
  ])('retries "%s"', (message, reason) => {
    expect(classifyAmqpResult(failed(message))).toEqual({ kind: 'retry', reason });
  });

  it('retries a refused connection by its code, and a timeout by its message', () => {
    expect(classifyAmqpResult(failed('connect ECONNREFUSED 127.0.0.1:5672', { code: 'ECONNREFUSED' }))).toEqual({ kind: 'retry', reason: 'ECONNREFUSED' });
    expect(classifyAmqpResult({ kind: 'failed', error: new Error('timeout after 5000 ms'), timedOut: true })).toEqual({ kind: 'retry', reason: 'timeout after 5000 ms' });
  });

  it('retries a channel closed under a publish with no reason given', () => {
    expect(classifyAmqpResult(failed('channel closed'))).toEqual({ kind: 'retry', reason: 'channel closed' });
  });
});
