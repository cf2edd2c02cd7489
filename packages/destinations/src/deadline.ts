import { performance } from 'node:perf_hooks';

/** How an operation run under a deadline ended. */
export type DeadlineResult<T> =
  | { readonly ok: true; readonly value: T; readonly durationMs: number }
  | {
      readonly ok: false;
      readonly error: unknown;
      readonly durationMs: number;
      /** It ran out of its time. */
      readonly timedOut: boolean;
      /** The shutdown signal ended it: whether the destination saw it is unknown. */
      readonly interrupted: boolean;
    };

/**
 * Runs `operation` with one signal that ends it after `timeoutMs` or when `shutdown` aborts,
 * and says which it was. An operation that ignores its signal is still given up on then: its
 * result no longer counts (a late broker confirm cannot turn a timed-out attempt delivered).
 */
export async function withDeadline<T>(timeoutMs: number, shutdown: AbortSignal, operation: (signal: AbortSignal) => Promise<T>): Promise<DeadlineResult<T>> {
  const startedAt = performance.now();
  const elapsedMs = (): number => Math.round(performance.now() - startedAt);
  const abort = new AbortController();
  let timedOut = false;
  let giveUp: (reason: unknown) => void = () => {};
  const givenUp = new Promise<never>((_, reject) => (giveUp = reject));
  const timer = setTimeout(() => {
    timedOut = true;
    abort.abort();
    giveUp(new Error(`timeout after ${timeoutMs} ms`));
  }, timeoutMs);
  const onShutdown = (): void => {
    abort.abort();
    giveUp(new Error('the attempt was aborted by shutdown'));
  };
  if (shutdown.aborted) onShutdown();
  else shutdown.addEventListener('abort', onShutdown, { once: true });
  try {
    const value = await Promise.race([operation(abort.signal), givenUp]);
    return { ok: true, value, durationMs: elapsedMs() };
  } catch (error) {
    return { ok: false, error, durationMs: elapsedMs(), timedOut, interrupted: !timedOut && shutdown.aborted };
  } finally {
    clearTimeout(timer);
    shutdown.removeEventListener('abort', onShutdown);
  }
}
