import { computeRetryDelay, type BackoffPolicy } from '@fanout/core';
import type { BackoffStrategy } from 'bullmq';

/** Thrown by `deliver` when an attempt is to be retried; BullMQ hands it to the backoff strategy. */
export class RetryLaterError extends Error {
  override readonly name = 'RetryLaterError';
  /** The delay the destination asked for with Retry-After, in ms; absent when it asked for none. */
  readonly retryAfterMs: number | undefined;

  constructor(message: string, retryAfterMs?: number) {
    super(message);
    this.retryAfterMs = retryAfterMs;
  }
}

/**
 * BullMQ's `settings.backoffStrategy` for one destination's worker, implementing the
 * `fanout` backoff type every delivery job names: the destination's policy, or the
 * destination's Retry-After capped by the policy's maxDelay.
 */
export function retryBackoff(policy: BackoffPolicy): BackoffStrategy {
  return (attemptsMade, _type, error) =>
    computeRetryDelay({ policy, attemptsMade, requestedDelayMs: error instanceof RetryLaterError ? error.retryAfterMs : undefined });
}
