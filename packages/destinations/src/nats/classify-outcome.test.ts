import { describe, expect, it } from '@jest/globals';
import { DestinationDeniedError } from '../network-guard.js';
import { classifyNatsFailure } from './classify-outcome.js';

const named = (name: string, message: string, extra: Record<string, unknown> = {}): Error => Object.assign(new Error(message), { name }, extra);
const apiError = (code: number, errCode: number, description: string): Error => named('JetStreamApiError', description, { apiError: () => ({ code, err_code: errCode, description }) });

describe('classifyNatsFailure', () => {
  it('dead-letters a server address the network guard denies at once, naming it', () => {
    expect(classifyNatsFailure(new DestinationDeniedError('fe80::1'), 's', false)).toEqual({ kind: 'dead', reason: 'destination address fe80::1 is denied' });
  });

  it.each(['NoRespondersError', 'JetStreamNotEnabled'])('retries %s: no stream captures the subject yet', (name) => {
    expect(classifyNatsFailure(named(name, 'no responders'), 'orders.created', false)).toEqual({ kind: 'retry', reason: 'no JetStream stream captures subject orders.created (no responders)' });
  });

  it('retries a 5xx JetStream error such as a full stream', () => {
    expect(classifyNatsFailure(apiError(503, 10077, 'maximum messages exceeded'), 's', false)).toEqual({ kind: 'retry', reason: 'JetStream 10077 maximum messages exceeded' });
  });

  it('dead-letters a 4xx JetStream error such as a message above the stream max', () => {
    expect(classifyNatsFailure(apiError(400, 10054, 'message size exceeds maximum allowed'), 's', false)).toEqual({ kind: 'dead', reason: 'JetStream 10054 message size exceeds maximum allowed' });
  });

  it.each(['AuthorizationError', 'PermissionViolationError', 'InvalidArgumentError'])('dead-letters %s at once', (name) => {
    expect(classifyNatsFailure(named(name, 'refused'), 's', false)).toEqual({ kind: 'dead', reason: `NATS ${name}: refused` });
  });

  it.each(['ConnectionError', 'ClosedConnectionError', 'RequestError'])('retries %s', (name) => {
    expect(classifyNatsFailure(named(name, 'gone'), 's', false)).toEqual({ kind: 'retry', reason: `NATS ${name}: gone` });
  });

  it('retries a timeout, and a system error by its code', () => {
    expect(classifyNatsFailure(new Error('timeout after 2000 ms'), 's', true)).toEqual({ kind: 'retry', reason: 'timeout after 2000 ms' });
    expect(classifyNatsFailure(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }), 's', false)).toEqual({ kind: 'retry', reason: 'ECONNREFUSED' });
  });
});
