import { describe, expect, it } from '@jest/globals';
import { nextTransition } from './next-transition.js';

describe('nextTransition', () => {
  it('delivers a delivered attempt, whatever the attempts left', () => {
    expect(nextTransition({ kind: 'delivered' }, false)).toEqual({ to: 'delivered' });
    expect(nextTransition({ kind: 'delivered' }, true)).toEqual({ to: 'delivered' });
  });

  it('retries while attempts are left, keeping the delay the destination asked for', () => {
    expect(nextTransition({ kind: 'retry', reason: 'HTTP 500' }, false)).toEqual({ to: 'retrying', error: 'HTTP 500' });
    expect(nextTransition({ kind: 'retry', reason: 'HTTP 429', retryAfterMs: 5_000 }, false)).toEqual({ to: 'retrying', error: 'HTTP 429', retryAfterMs: 5_000 });
  });

  it('dead-letters a retryable outcome of the last attempt, and a refusal at once', () => {
    expect(nextTransition({ kind: 'retry', reason: 'HTTP 503' }, true)).toEqual({ to: 'dead', error: 'HTTP 503' });
    expect(nextTransition({ kind: 'dead', reason: 'HTTP 400' }, false)).toEqual({ to: 'dead', error: 'HTTP 400' });
  });
});
