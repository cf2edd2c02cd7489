import { describe, expect, it } from '@jest/globals';
import { percentile, ratio, steadyRate, summarizeLatencies } from './stats.js';

describe('percentile', () => {
  const hundred = Array.from({ length: 100 }, (_, i) => i + 1);

  it('is nearest-rank over sorted samples', () => {
    expect(percentile(hundred, 50)).toBe(50);
    expect(percentile(hundred, 99)).toBe(99);
    expect(percentile(hundred, 99.9)).toBe(100);
    expect(percentile(hundred, 100)).toBe(100);
    expect(percentile(hundred, 0)).toBe(1);
  });

  it('answers the only sample for any p, and NaN for none', () => {
    expect(percentile([7], 50)).toBe(7);
    expect(percentile([7], 99.9)).toBe(7);
    expect(percentile([], 50)).toBeNaN();
  });
});

describe('summarizeLatencies', () => {
  it('sorts before it reads percentiles', () => {
    const samples = [5, 1, 4, 2, 3];
    expect(summarizeLatencies(samples)).toEqual({ count: 5, p50: 3, p99: 5, p999: 5, max: 5 });
    expect(samples).toEqual([5, 1, 4, 2, 3]);
  });
});

describe('steadyRate', () => {
  // A counter that starts moving at 1 s and then grows by 100 every 100 ms: 1,000 per second.
  const samples = Array.from({ length: 60 }, (_, i) => ({ at: i * 100, count: Math.max(0, (i - 10) * 100) }));

  it('measures from the warm-up after the first move, for the duration', () => {
    const window = steadyRate(samples, 1_000, 2_000);
    expect(window.perSecond).toBeCloseTo(1_000);
    expect(window.seconds).toBeCloseTo(2);
  });

  it('stops at the first sample at the total: the work ran out', () => {
    // Active from 1.0 s, measured from 1.5 s (count 500) to 3.0 s, where the count reaches 2,000.
    const window = steadyRate(samples, 500, 10_000, 2_000);
    expect(window.count).toBe(1_500);
    expect(window.seconds).toBeCloseTo(1.5);
    expect(window.perSecond).toBeCloseTo(1_000);
  });

  it('uses the whole active span when the work ran out within the warm-up', () => {
    const window = steadyRate(samples, 10_000, 1_000, 500);
    expect(window.perSecond).toBeCloseTo(1_000);
  });

  it('is zero for a counter that never moved', () => {
    expect(steadyRate([{ at: 0, count: 3 }, { at: 100, count: 3 }], 0, 1_000)).toEqual({ perSecond: 0, count: 0, seconds: 0 });
  });
});

describe('ratio', () => {
  it('divides, and has no ratio to a zero baseline', () => {
    expect(ratio(8, 10)).toBeCloseTo(0.8);
    expect(ratio(8, 0)).toBeNaN();
  });
});
