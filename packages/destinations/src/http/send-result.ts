import type { IncomingHttpHeaders } from 'node:http';

/** The destination answered. */
export interface SendResponse {
  readonly statusCode: number;
  readonly headers: IncomingHttpHeaders;
  /** The start of the response body as text. */
  readonly bodySnippet: string;
  readonly durationMs: number;
}

/** The code of a failure in which the attempt ran out of its time. */
export const TIMEOUT_ERROR_CODE = 'ETIMEDOUT';

/** The destination did not answer: a timeout, a refused or reset connection, a DNS failure… */
export interface SendFailure {
  readonly error: {
    /** `ETIMEDOUT` (see TIMEOUT_ERROR_CODE), `ECONNREFUSED`, `ECONNRESET`, `ENOTFOUND`, `ERR_ABORTED`… */
    readonly code: string;
    /** For timeouts `timeout after <ms> ms`; otherwise the underlying error's message. */
    readonly message: string;
  };
  readonly durationMs: number;
}

/** One HTTP attempt's raw result, before `classifyOutcome`. */
export type SendResult = SendResponse | SendFailure;

export function isSendFailure(result: SendResult): result is SendFailure {
  return 'error' in result;
}
