import { describe, expect, it } from '@jest/globals';
import type { BackoffPolicy } from '@fanout/core';
import { RetryLaterError } from '@fanout/delivery';
import { retryBackoff } from './retry-backoff.js';

const exponential: BackoffPolicy = { type: 'exponential', delayMs: 1_000, maxDelayMs: 60_000, jitter: 'none' };

describe('retryBackoff', () => {
  it("follows the destination's policy when the destination asked for no delay", () => {
    const strategy = retryBackoff(exponential);
    expect([1, 2, 3, 7, 10].map((attemptsMade) => strategy(attemptsMade, 'fanout', new RetryLaterError('HTTP 500')))).toEqual([1_000, 2_000, 4_000, 60_000, 60_000]);
  });

  it('waits as long as Retry-After asked, capped by maxDelay', () => {
    const strategy = retryBackoff(exponential);
    expect(strategy(1, 'fanout', new RetryLaterError('HTTP 429', 5_000))).toBe(5_000);
    expect(strategy(1, 'fanout', new RetryLaterError('HTTP 429', 0))).toBe(0);
    expect(strategy(1, 'fanout', new RetryLaterError('HTTP 503', 3_600_000))).toBe(60_000);
  });

  it('uses the policy for errors that carry no delay (Redis failing mid-attempt)', () => {
    expect(retryBackoff(exponential)(2, 'fanout', new Error('Connection is closed.'))).toBe(2_000);
  });

  it('draws full jitter within the computed delay', () => {
    const strategy = retryBackoff({ ...exponential, jitter: 'full' });
    for (let i = 0; i < 50; i++) {
      const delay = strategy(3, 'fanout', new RetryLaterError('HTTP 500'));
      expect(delay).toBeGreaterThanOrEqual(0);
      expect(delay).toBeLessThanOrEqual(4_000);
    }
  });
});
