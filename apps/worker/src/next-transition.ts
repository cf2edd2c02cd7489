import type { AttemptOutcome } from '@fanout/destinations';

/** Which transition an attempt's outcome takes its delivery through. */
export type NextTransition = { readonly to: 'delivered' } | { readonly to: 'retrying' | 'dead'; readonly error: string; readonly retryAfterMs?: number };

/**
 * Delivered, retried while the retry policy allows another attempt, else dead: a retryable
 * outcome of the last attempt is a dead letter too.
 */
export function nextTransition(outcome: AttemptOutcome, lastAttempt: boolean): NextTransition {
  if (outcome.kind === 'delivered') return { to: 'delivered' };
  if (outcome.kind === 'dead' || lastAttempt) return { to: 'dead', error: outcome.reason };
  return outcome.retryAfterMs === undefined ? { to: 'retrying', error: outcome.reason } : { to: 'retrying', error: outcome.reason, retryAfterMs: outcome.retryAfterMs };
}
