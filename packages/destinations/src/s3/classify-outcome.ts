import type { FailedOutcome } from '../attempt.js';
import { errorField, errorMessage, systemErrorCode } from '../error-facts.js';
import { isDestinationDenied } from '../network-guard.js';

/** How an S3 request failed, as the SDK reports it. */
export interface S3Failure {
  /** The HTTP status of the store's answer; absent when there was none (network, timeout). */
  readonly statusCode?: number;
  /** The store's error code (`NoSuchBucket`, `SlowDown`…), the SDK's error name otherwise. */
  readonly code: string;
  readonly message: string;
  readonly timedOut: boolean;
  /** The network guard refused the store's address: `message` names it. */
  readonly denied?: true;
}

/** 4xx errors that say "not now": throttling, a request that took too long, a clock or token the SDK corrects. */
const RETRYABLE_CODES: ReadonlySet<string> = new Set([
  'SlowDown',
  'Throttling',
  'ThrottlingException',
  'ThrottledException',
  'RequestThrottled',
  'RequestThrottledException',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'BandwidthLimitExceeded',
  'RequestTimeout',
  'RequestTimeTooSkewed',
  'ExpiredToken',
  'TokenRefreshRequired',
  'OperationAborted',
]);
const RETRYABLE_STATUSES: ReadonlySet<number> = new Set([408, 409, 429]);

/**
 * How a failed S3 write is classified. No answer (network errors, timeouts, the credential
 * chain failing to answer) and 5xx are retried, and so are throttling, request timeouts,
 * clock skew and expired tokens (4xx that clear by themselves). Every other 4xx (NoSuchBucket,
 * AccessDenied, InvalidAccessKeyId, SignatureDoesNotMatch, EntityTooLarge…) dead-letters at
 * once: the bucket or the credentials must change first, and a replay then sends it again.
 * So does an address the network guard denies: it would refuse every retry too.
 */
export function classifyS3Failure({ statusCode, code, message, timedOut, denied }: S3Failure): FailedOutcome {
  if (denied) return { kind: 'dead', reason: message };
  if (timedOut) return { kind: 'retry', reason: message };
  if (statusCode === undefined) return { kind: 'retry', reason: code };
  const reason = `S3 ${code} (HTTP ${statusCode})`;
  if (statusCode >= 500 || RETRYABLE_STATUSES.has(statusCode) || RETRYABLE_CODES.has(code)) return { kind: 'retry', reason };
  return { kind: 'dead', reason };
}

/** What an SDK error says, in the terms classifyS3Failure reads. */
export function s3Failure(error: unknown, timedOut: boolean): S3Failure {
  const metadata = typeof error === 'object' && error !== null && '$metadata' in error ? (error.$metadata as { httpStatusCode?: unknown }) : undefined;
  const status = metadata?.httpStatusCode;
  const statusCode = typeof status === 'number' && status >= 400 ? status : undefined;
  const code = String(errorField(error, 'Code') ?? (statusCode === undefined ? systemErrorCode(error) : undefined) ?? errorField(error, 'name') ?? 'Error');
  return { ...(statusCode === undefined ? {} : { statusCode }), code, message: errorMessage(error), timedOut, ...(isDestinationDenied(error) && { denied: true as const }) };
}
