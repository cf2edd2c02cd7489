import { describe, expect, it } from '@jest/globals';
import { createKeys } from '@fanout/redis';
import { httpDestination, s3Destination } from '@fanout/testkit';
import { Redis } from 'ioredis';
import { RetryLaterError } from '@fanout/delivery';
import { deliveryWorkerOptions } from './worker-options.js';

const stall = { minLockDurationMs: 30_000, stalledIntervalMs: 10_000 };

describe('deliveryWorkerOptions', () => {
  const keys = createKeys('unit');
  // Never connected: the options only hold it.
  const connection = new Redis({ lazyConnect: true });

  it('takes concurrency and the BullMQ prefix from the destination and the keys', () => {
    const options = deliveryWorkerOptions({ destination: httpDestination({ name: 'a', url: 'http://x', concurrency: 7 }), connection, keys, stall });
    expect(options).toMatchObject({ connection, prefix: 'unit:q', concurrency: 7 });
    expect(options.limiter).toBeUndefined();
  });

  it('takes the stall settings given, and fails a job on its fourth stall by default, whatever its retry policy', () => {
    for (const attempts of [1, 20]) {
      const destination = httpDestination({ name: 'a', url: 'http://x', retry: { attempts, backoff: { type: 'fixed', delayMs: 10, maxDelayMs: 10, jitter: 'none' } } });
      expect(deliveryWorkerOptions({ destination, connection, keys, stall })).toMatchObject({ lockDuration: 30_000, stalledInterval: 10_000, maxStalledCount: 3 });
    }
    const tuned = deliveryWorkerOptions({ destination: httpDestination({ name: 'a', url: 'http://x', timeoutMs: 400 }), connection, keys, stall: { minLockDurationMs: 500, stalledIntervalMs: 100, maxStalledCount: 1 } });
    expect(tuned).toMatchObject({ lockDuration: 800, stalledInterval: 100, maxStalledCount: 1 });
  });

  it('turns a rate limit into a BullMQ limiter', () => {
    const options = deliveryWorkerOptions({ destination: httpDestination({ name: 'a', url: 'http://x', rateLimit: { max: 100, perMs: 1_000 } }), connection, keys, stall });
    expect(options.limiter).toEqual({ max: 100, duration: 1_000 });
  });

  it.each([
    [2_000, 30_000],
    [15_000, 30_000],
    [20_000, 40_000],
    [120_000, 240_000],
  ])('locks a job for longer than an attempt: timeout %i ms → lock %i ms', (timeoutMs, lockDuration) => {
    expect(deliveryWorkerOptions({ destination: httpDestination({ name: 'a', url: 'http://x', timeoutMs }), connection, keys, stall }).lockDuration).toBe(lockDuration);
  });

  it('locks a batched job for longer than its wait in the batch and its write', () => {
    const destination = s3Destination({ name: 'archive', bucket: 'b', timeoutMs: 5_000, batch: { maxEvents: 500, maxBytes: 5_242_880, maxWaitMs: 20_000 } });
    expect(deliveryWorkerOptions({ destination, connection, keys, stall }).lockDuration).toBe(50_000);
  });

  it("backs off per the destination's policy", () => {
    const destination = httpDestination({ name: 'a', url: 'http://x', retry: { attempts: 5, backoff: { type: 'fixed', delayMs: 250, maxDelayMs: 1_000, jitter: 'none' } } });
    const strategy = deliveryWorkerOptions({ destination, connection, keys, stall }).settings?.backoffStrategy;
    expect(strategy?.(1, 'fanout', new RetryLaterError('HTTP 500'))).toBe(250);
    expect(strategy?.(1, 'fanout', new RetryLaterError('HTTP 429', 10_000))).toBe(1_000);
  });
});
