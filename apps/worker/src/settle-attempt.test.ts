import { describe, expect, it } from '@jest/globals';
import type { SendResult } from '@fanout/destinations';
import { settleAttempt, type AttemptFacts } from './settle-attempt.js';

const facts = (overrides: Partial<AttemptFacts>): AttemptFacts => ({ attempt: 1, lastAttempt: false, startedAt: 1_000, finishedAt: 1_250, outcome: { kind: 'delivered' }, ...overrides });
const answered = (statusCode: number, bodySnippet = ''): SendResult => ({ statusCode, headers: {}, bodySnippet, durationMs: 240 });

describe('settleAttempt', () => {
  it('records a delivery with its status code and when it was delivered', () => {
    expect(settleAttempt(facts({ attempt: 2, result: answered(204) }))).toEqual({
      outcome: 'delivered',
      attempt: { attempt: 2, at: 1_000, durationMs: 240, outcome: 'delivered', statusCode: 204 },
      record: { status: 'delivered', attempts: 2, lastStatusCode: 204, deliveredAt: 1_250, updatedAt: 1_250 },
    });
  });

  it('keeps retrying while attempts are left, with the start of the answer on one line', () => {
    const settled = settleAttempt(facts({ attempt: 2, outcome: { kind: 'retry', reason: 'HTTP 500' }, result: answered(500, '  upstream\n  down ') }));
    expect(settled).toEqual({
      outcome: 'retry',
      error: 'HTTP 500: upstream down',
      attempt: { attempt: 2, at: 1_000, durationMs: 240, outcome: 'retry', statusCode: 500, error: 'HTTP 500: upstream down' },
      record: { status: 'retrying', attempts: 2, lastError: 'HTTP 500: upstream down', lastStatusCode: 500, updatedAt: 1_250 },
    });
  });

  it('dead-letters a retryable attempt that was the last one', () => {
    const settled = settleAttempt(facts({ attempt: 3, lastAttempt: true, outcome: { kind: 'retry', reason: 'HTTP 503' }, result: answered(503) }));
    expect(settled.outcome).toBe('dead');
    expect(settled.attempt.outcome).toBe('dead');
    expect(settled.record).toEqual({ status: 'dead', attempts: 3, lastError: 'HTTP 503', lastStatusCode: 503, updatedAt: 1_250 });
  });

  it('keeps retrying while the policy allows, whatever the number: attempts cut short took numbers too', () => {
    const settled = settleAttempt(facts({ attempt: 5, lastAttempt: false, outcome: { kind: 'retry', reason: 'HTTP 500' }, result: answered(500) }));
    expect(settled.outcome).toBe('retry');
    expect(settled.record).toMatchObject({ status: 'retrying', attempts: 5 });
  });

  it('dead-letters a refusal on the first attempt', () => {
    const settled = settleAttempt(facts({ outcome: { kind: 'dead', reason: 'HTTP 410' }, result: answered(410, 'gone') }));
    expect(settled.record).toMatchObject({ status: 'dead', attempts: 1, lastError: 'HTTP 410: gone' });
  });

  it('records a timeout without a status code', () => {
    const result: SendResult = { error: { code: 'ETIMEDOUT', message: 'timeout after 300 ms' }, durationMs: 301 };
    const settled = settleAttempt(facts({ outcome: { kind: 'retry', reason: 'timeout after 300 ms' }, result }));
    expect(settled.attempt).toEqual({ attempt: 1, at: 1_000, durationMs: 301, outcome: 'retry', error: 'timeout after 300 ms' });
    expect(settled.record).toEqual({ status: 'retrying', attempts: 1, lastError: 'timeout after 300 ms', updatedAt: 1_250 });
  });

  it('keeps the address a connection error names', () => {
    const result: SendResult = { error: { code: 'ECONNREFUSED', message: 'connect ECONNREFUSED 127.0.0.1:9' }, durationMs: 2 };
    expect(settleAttempt(facts({ outcome: { kind: 'retry', reason: 'ECONNREFUSED' }, result })).record.lastError).toBe('connect ECONNREFUSED 127.0.0.1:9');
  });

  it('records a dead letter for which nothing was sent', () => {
    const settled = settleAttempt(facts({ outcome: { kind: 'dead', reason: 'payload no longer stored' } }));
    expect(settled.attempt).toEqual({ attempt: 1, at: 1_000, durationMs: 0, outcome: 'dead', error: 'payload no longer stored' });
    expect(settled.record).toEqual({ status: 'dead', attempts: 1, lastError: 'payload no longer stored', updatedAt: 1_250 });
  });
});
