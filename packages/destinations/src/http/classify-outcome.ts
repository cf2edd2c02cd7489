import type { AttemptOutcome } from '../attempt.js';
import { DESTINATION_DENIED } from '../network-guard.js';
import { isSendFailure, TIMEOUT_ERROR_CODE, type SendResult } from './send-result.js';

/** Statuses besides 5xx that say "not now" rather than "never". */
const RETRYABLE_STATUSES: ReadonlySet<number> = new Set([408, 409, 425, 429]);
/** Statuses whose Retry-After is honoured, as the contract names them. */
const RETRY_AFTER_STATUSES: ReadonlySet<number> = new Set([429, 503]);

/**
 * How an HTTP attempt's result is classified. 2xx is delivered; 408, 409, 425, 429, 5xx and
 * every failure to get an answer (timeouts, connection errors) are retried; any other status
 * (other 4xx, and 3xx because redirects are not followed) and a destination address the
 * network guard denies dead-letter at once.
 *
 * @param nowMs unix ms, to turn a Retry-After HTTP-date into a delay.
 */
export function classifyOutcome(result: SendResult, nowMs: number): AttemptOutcome {
  if (isSendFailure(result)) {
    const { code, message } = result.error;
    // The guard will refuse that address on every attempt: retrying only delays the dead letter.
    if (code === DESTINATION_DENIED) return { kind: 'dead', reason: message };
    return { kind: 'retry', reason: code === TIMEOUT_ERROR_CODE ? message : code };
  }
  const { statusCode } = result;
  const reason = `HTTP ${statusCode}`;
  if (statusCode >= 200 && statusCode < 300) return { kind: 'delivered' };
  if (RETRYABLE_STATUSES.has(statusCode) || (statusCode >= 500 && statusCode < 600)) {
    const retryAfterMs = RETRY_AFTER_STATUSES.has(statusCode) ? parseRetryAfter(result.headers['retry-after'], nowMs) : undefined;
    return retryAfterMs === undefined ? { kind: 'retry', reason } : { kind: 'retry', reason, retryAfterMs };
  }
  if (statusCode >= 300 && statusCode < 400) return { kind: 'dead', reason: `${reason} (redirects are not followed)` };
  return { kind: 'dead', reason };
}

// All three HTTP-date forms (IMF-fixdate, RFC 850, asctime) open with a day name; checking it
// keeps Date.parse, which reads almost anything, from turning a malformed value into a date.
const HTTP_DATE = /^(mon|tue|wed|thu|fri|sat|sun)/i;
const DELTA_SECONDS = /^\d+(\.\d+)?$/;

/** Milliseconds a Retry-After value asks to wait (delta seconds or an HTTP-date); undefined when absent or malformed. */
function parseRetryAfter(value: string | undefined, nowMs: number): number | undefined {
  const trimmed = value?.trim();
  if (!trimmed) return undefined;
  // Decimals are not in the grammar, but some servers send them; reading them beats ignoring them.
  if (DELTA_SECONDS.test(trimmed)) return Math.ceil(Number(trimmed) * 1_000);
  if (!HTTP_DATE.test(trimmed)) return undefined;
  // asctime dates carry no zone; every HTTP-date is GMT, and Date.parse would read it as local time.
  const at = Date.parse(/gmt$/i.test(trimmed) ? trimmed : `${trimmed} GMT`);
  return Number.isNaN(at) ? undefined : Math.max(0, at - nowMs);
}
