import { isSendFailure, type AttemptOutcome, type SendResult } from '@fanout/destinations';
import type { AttemptRecord, DeliveryRecord } from '@fanout/redis';

export interface AttemptFacts {
  /** The attempt's number: 1 for the first, and one more for every start of the delivery since (see `deliver`). */
  readonly attempt: number;
  /** Whether the retry policy allows no attempt after this one. */
  readonly lastAttempt: boolean;
  /** Unix ms. */
  readonly startedAt: number;
  /** Unix ms. */
  readonly finishedAt: number;
  readonly outcome: AttemptOutcome;
  /** What the destination answered; absent when nothing was sent. */
  readonly result?: SendResult;
}

/** Where one attempt leaves its delivery: the outcome counted, the attempt log entry and the new delivery record. */
export type SettledAttempt = {
  readonly attempt: AttemptRecord;
  readonly record: DeliveryRecord;
} & (
  | { readonly outcome: 'delivered' }
  /** `dead` also when a retryable attempt was the last one; `error` says why it did not deliver. */
  | { readonly outcome: 'retry' | 'dead'; readonly error: string }
);

export function settleAttempt({ attempt, lastAttempt, startedAt, finishedAt, outcome, result }: AttemptFacts): SettledAttempt {
  const statusCode = result && !isSendFailure(result) ? result.statusCode : undefined;
  const logged = { attempt, at: startedAt, durationMs: result?.durationMs ?? 0, ...(statusCode === undefined ? {} : { statusCode }) };
  const codeSeen = statusCode === undefined ? {} : { lastStatusCode: statusCode };
  if (outcome.kind === 'delivered') {
    return {
      outcome: 'delivered',
      attempt: { ...logged, outcome: 'delivered' },
      record: { status: 'delivered', attempts: attempt, ...codeSeen, deliveredAt: finishedAt, updatedAt: finishedAt },
    };
  }
  const settled = outcome.kind === 'retry' && !lastAttempt ? 'retry' : 'dead';
  const error = describeFailure(outcome.reason, result);
  return {
    outcome: settled,
    error,
    attempt: { ...logged, outcome: settled, error },
    record: { status: settled === 'retry' ? 'retrying' : 'dead', attempts: attempt, lastError: error, ...codeSeen, updatedAt: finishedAt },
  };
}

/** The reason with what the destination said: the error's own message, or the start of the answer's body on one line. */
function describeFailure(reason: string, result: SendResult | undefined): string {
  if (!result) return reason;
  if (isSendFailure(result)) return result.error.message.includes(reason) ? result.error.message : `${reason}: ${result.error.message}`;
  const snippet = result.bodySnippet.replace(/\s+/g, ' ').trim();
  return snippet ? `${reason}: ${snippet}` : reason;
}
