/** Pure helpers for the bench's figures: percentiles, rates from counter samples, ratios. */

/** The p-th percentile (0..100) of samples, nearest-rank; NaN for no samples. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

export interface LatencySummary {
  readonly count: number;
  readonly p50: number;
  readonly p99: number;
  readonly p999: number;
  readonly max: number;
}

export function summarizeLatencies(samples: readonly number[]): LatencySummary {
  const sorted = [...samples].sort((a, b) => a - b);
  return { count: sorted.length, p50: percentile(sorted, 50), p99: percentile(sorted, 99), p999: percentile(sorted, 99.9), max: sorted.at(-1) ?? Number.NaN };
}

/** One reading of a counter that only grows: `count` at `at` (ms). */
export interface CounterSample {
  readonly at: number;
  readonly count: number;
}

export interface RateWindow {
  /** Per second over the window. */
  readonly perSecond: number;
  readonly count: number;
  readonly seconds: number;
}

/**
 * The rate of a counter over its steady part: from `warmupMs` after it first moved, to
 * `durationMs` later or to the first sample at `total` (the work ran out), whichever comes
 * first. When the work ran out before the warm-up ended, the whole active span is used.
 */
export function steadyRate(samples: readonly CounterSample[], warmupMs: number, durationMs: number, total = Number.POSITIVE_INFINITY): RateWindow {
  const firstMoved = samples.findIndex((sample, i) => i > 0 && sample.count > samples[0]!.count);
  if (firstMoved < 0) return { perSecond: 0, count: 0, seconds: 0 };
  // The counter moved somewhere between the previous sample and this one.
  const activeFrom = samples[firstMoved - 1]!;
  const lastIndex = (() => {
    const done = samples.findIndex((sample) => sample.count >= total);
    return done < 0 ? samples.length - 1 : done;
  })();
  let startIndex = samples.findIndex((sample) => sample.at >= activeFrom.at + warmupMs);
  if (startIndex < 0 || startIndex >= lastIndex) startIndex = firstMoved - 1;
  const start = samples[startIndex]!;
  let endIndex = samples.findIndex((sample) => sample.at >= start.at + durationMs);
  if (endIndex < 0 || endIndex > lastIndex) endIndex = lastIndex;
  const end = samples[endIndex]!;
  const seconds = (end.at - start.at) / 1000;
  const count = end.count - start.count;
  return { perSecond: seconds > 0 ? count / seconds : 0, count, seconds };
}

export function ratio(value: number, baseline: number): number {
  return baseline > 0 ? value / baseline : Number.NaN;
}
