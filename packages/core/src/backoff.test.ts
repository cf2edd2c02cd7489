import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { computeRetryDelay, type BackoffPolicy } from './backoff.js';

const exponential: BackoffPolicy = { type: 'exponential', delayMs: 1_000, maxDelayMs: 60_000, jitter: 'none' };

describe('computeRetryDelay', () => {
  it('doubles the delay per attempt up to maxDelay', () => {
    expect([1, 2, 3, 4, 7, 8].map((attemptsMade) => computeRetryDelay({ policy: exponential, attemptsMade }))).toEqual([1_000, 2_000, 4_000, 8_000, 60_000, 60_000]);
  });

  it('keeps a fixed delay fixed', () => {
    const fixed: BackoffPolicy = { ...exponential, type: 'fixed', delayMs: 500 };
    expect([1, 5, 20].map((attemptsMade) => computeRetryDelay({ policy: fixed, attemptsMade }))).toEqual([500, 500, 500]);
  });

  it('takes a requested delay (Retry-After) over the computed one, capped by maxDelay', () => {
    expect(computeRetryDelay({ policy: exponential, attemptsMade: 1, requestedDelayMs: 30_000 })).toBe(30_000);
    expect(computeRetryDelay({ policy: exponential, attemptsMade: 1, requestedDelayMs: 7_200_000 })).toBe(60_000);
  });

  it('with full jitter stays within [0, computed] and spans it', () => {
    const policy: BackoffPolicy = { ...exponential, jitter: 'full' };
    expect(computeRetryDelay({ policy, attemptsMade: 3, random: () => 0 })).toBe(0);
    expect(computeRetryDelay({ policy, attemptsMade: 3, random: () => 0.999_999_9 })).toBe(4_000);
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 60 }), fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), (attemptsMade, r) => {
        const delay = computeRetryDelay({ policy, attemptsMade, random: () => r });
        expect(delay).toBeGreaterThanOrEqual(0);
        expect(delay).toBeLessThanOrEqual(computeRetryDelay({ policy: exponential, attemptsMade }));
      }),
    );
  });
});
