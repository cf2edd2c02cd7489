import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { steadyRate, type CounterSample, type RateWindow } from './stats.js';

export interface MeterOptions {
  /** Reads the counter (jobs in queues, requests at the sink…). */
  read: () => Promise<number> | number;
  warmupMs: number;
  durationMs: number;
  /** The counter's final value: the work ran out when it gets there. */
  total?: number;
  /** Gives up this long after starting if the counter never moved or got stuck. Default warm-up + duration + 30 s. */
  timeoutMs?: number;
  /** Sampling period in ms. Default 50. */
  everyMs?: number;
}

/**
 * Samples a counter until its steady window is over (warm-up after it first moved, then the
 * duration) or the work ran out, and returns its rate over that window.
 */
export async function meterRate(options: MeterOptions): Promise<RateWindow & { samples: CounterSample[] }> {
  const { read, warmupMs, durationMs, total = Number.POSITIVE_INFINITY, everyMs = 50 } = options;
  const timeoutMs = options.timeoutMs ?? warmupMs + durationMs + 30_000;
  const samples: CounterSample[] = [];
  const startedAt = performance.now();
  let movedAt: number | undefined;
  for (;;) {
    const count = await read();
    const at = performance.now();
    samples.push({ at, count });
    if (movedAt === undefined && samples.length > 1 && count > samples[0]!.count) movedAt = at;
    if (count >= total) break;
    if (movedAt !== undefined && at - movedAt >= warmupMs + durationMs + everyMs) break;
    if (at - startedAt > timeoutMs) break;
    await sleep(everyMs);
  }
  return { ...steadyRate(samples, warmupMs, durationMs, total), samples };
}
