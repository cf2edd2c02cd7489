/** How the delay between attempts grows. All times in milliseconds. */
export interface BackoffPolicy {
  type: 'fixed' | 'exponential';
  /** The first retry's delay (exponential doubles it per attempt). */
  delayMs: number;
  /** The cap on any one delay, Retry-After included. */
  maxDelayMs: number;
  /** `full`: a uniformly random delay in [0, computed]; `none`: exactly the computed delay. */
  jitter: 'full' | 'none';
}

export interface RetryDelayInput {
  policy: BackoffPolicy;
  /** Attempts made so far, ≥ 1 (the delay before attempt number attemptsMade + 1). */
  attemptsMade: number;
  /** A delay the destination asked for (Retry-After); it replaces the computed delay. */
  requestedDelayMs?: number | undefined;
  /** Returns a number in [0, 1); injected so tests are deterministic. */
  random?: () => number;
}

export function computeRetryDelay({ policy, attemptsMade, requestedDelayMs, random = Math.random }: RetryDelayInput): number {
  if (requestedDelayMs !== undefined) return Math.min(Math.max(0, requestedDelayMs), policy.maxDelayMs);
  const exponent = policy.type === 'exponential' ? Math.max(0, attemptsMade - 1) : 0;
  const computed = Math.min(policy.delayMs * 2 ** exponent, policy.maxDelayMs);
  return policy.jitter === 'full' ? Math.floor(random() * (computed + 1)) : computed;
}
