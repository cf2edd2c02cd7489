import { computeRetryDelay, type BackoffPolicy } from '@fanout/core';
import { RetryLaterError } from '@fanout/delivery';
import type { BackoffStrategy } from 'bullmq';

/**
 * BullMQ's `settings.backoffStrategy` for one destination's worker, implementing the
 * `fanout` backoff type every delivery job names: the destination's policy, or the
 * destination's Retry-After capped by the policy's maxDelay.
 */
export function retryBackoff(policy: BackoffPolicy): BackoffStrategy {
  return (attemptsMade, _type, error) =>
    computeRetryDelay({ policy, attemptsMade, requestedDelayMs: error instanceof RetryLaterError ? error.retryAfterMs : undefined });
}
