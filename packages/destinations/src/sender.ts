import type { IncomingHttpHeaders } from 'node:http';
import type { HttpDestination } from '@fanout/flows';

/** One attempt of a delivery, as a sender makes it. */
export interface OutboundDelivery {
  /** The event id, sent as `webhook-id` on every attempt so receivers can dedupe. */
  readonly eventId: string;
  /** The event's body, byte for byte. */
  readonly body: Buffer;
  /** The inbound Content-Type, forwarded as is; `''` sends none. */
  readonly contentType: string;
  readonly destination: HttpDestination;
  /** When this attempt started; `webhook-timestamp` carries its unix seconds. */
  readonly attemptStartedAt: Date;
  /** Aborts the attempt (a forced shutdown); the result is then a failure with code `ERR_ABORTED`. */
  readonly signal?: AbortSignal;
}

/** The destination answered. */
export interface SendResponse {
  readonly statusCode: number;
  readonly headers: IncomingHttpHeaders;
  /** The start of the response body as text, for the delivery's lastError. */
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

export type SendResult = SendResponse | SendFailure;

/** Makes one attempt of a delivery. It never throws: every failure is a SendFailure. */
export interface Sender {
  send(delivery: OutboundDelivery): Promise<SendResult>;
}

export function isSendFailure(result: SendResult): result is SendFailure {
  return 'error' in result;
}
