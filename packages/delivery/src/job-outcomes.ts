import { UnrecoverableError } from 'bullmq';

/**
 * How an attempt's outcome reaches BullMQ, the scheduler: the worker resolves (delivered) or
 * throws one of these, after the transition recorded it.
 */

/** The delivery is dead and its record says so: BullMQ fails the job at once (the destination's dead letters). */
export class DeadLetterError extends UnrecoverableError {
  override readonly name = 'DeadLetterError';
}

/** The job names no delivery (malformed, a copy, another flow's event, no such event): failed at once, nothing recorded. */
export class JobRefusedError extends UnrecoverableError {
  override readonly name = 'JobRefusedError';
}

/** Another attempt is due: BullMQ hands it to the destination's backoff strategy. */
export class RetryLaterError extends Error {
  override readonly name = 'RetryLaterError';
  /** The delay the destination asked for (Retry-After), in ms; absent when it asked for none. */
  readonly retryAfterMs: number | undefined;

  constructor(message: string, retryAfterMs?: number) {
    super(message);
    this.retryAfterMs = retryAfterMs;
  }
}
