import type { FailedOutcome } from '../attempt.js';
import { errorField, errorMessage, systemErrorCode } from '../error-facts.js';
import { isDestinationDenied } from '../network-guard.js';

/** Errors that say the server will never take this publish as configured: credentials, permissions, a payload above max_payload, a bad subject. */
const REFUSED_FOR_GOOD: ReadonlySet<string> = new Set(['AuthorizationError', 'PermissionViolationError', 'UserAuthenticationExpiredError', 'InvalidArgumentError', 'InvalidSubjectError']);
/** No stream answered: the client reports no responders to a JetStream publish as JetStream not enabled. */
const NO_STREAM: ReadonlySet<string> = new Set(['NoRespondersError', 'JetStreamNotEnabled']);

/**
 * How a failed JetStream publish is classified (an acknowledged one, a duplicate included, is
 * delivered). A JetStream API error is retried when its code is 5xx (stream limits reached
 * with discard new, no quorum) and dead-lettered at once otherwise (a message above the
 * stream's max size); no stream capturing the subject, timeouts and connection loss are
 * retried; the errors in REFUSED_FOR_GOOD dead-letter at once, and so does a server address
 * the network guard denies.
 */
export function classifyNatsFailure(error: unknown, subject: string, timedOut: boolean): FailedOutcome {
  const message = errorMessage(error);
  if (isDestinationDenied(error)) return { kind: 'dead', reason: message };
  if (timedOut) return { kind: 'retry', reason: message };
  const name = String(errorField(error, 'name') ?? 'Error');
  if (NO_STREAM.has(name)) return { kind: 'retry', reason: `no JetStream stream captures subject ${subject} (no responders)` };
  if (name === 'JetStreamApiError') {
    const api = apiError(error);
    const reason = `JetStream ${api.errCode ?? '?'} ${api.description ?? message}`;
    return api.code !== undefined && api.code < 500 ? { kind: 'dead', reason } : { kind: 'retry', reason };
  }
  if (REFUSED_FOR_GOOD.has(name)) return { kind: 'dead', reason: `NATS ${name}: ${message}` };
  return { kind: 'retry', reason: systemErrorCode(error) ?? `NATS ${name}: ${message}` };
}

function apiError(error: unknown): { code?: number; errCode?: number; description?: string } {
  const read = typeof error === 'object' && error !== null && 'apiError' in error && typeof error.apiError === 'function' ? (error.apiError as () => unknown).call(error) : undefined;
  const code = errorField(read, 'code');
  const errCode = errorField(read, 'err_code');
  const description = errorField(read, 'description');
  return { ...(typeof code === 'number' && { code }), ...(typeof errCode === 'number' && { errCode }), ...(typeof description === 'string' && { description }) };
}
