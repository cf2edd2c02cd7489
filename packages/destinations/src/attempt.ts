/** One attempt of a delivery, as a destination client makes it. */
export interface DeliveryAttempt {
  /** The event id: `webhook-id` (or the kind's message id) on every attempt, so receivers can dedupe. */
  readonly eventId: string;
  readonly flow: string;
  /** Unix ms when the ingress accepted the event. */
  readonly receivedAt: number;
  /** The inbound Content-Type, forwarded as is; `''` when the request had none. */
  readonly contentType: string;
  /** The event's body, byte for byte. */
  readonly body: Buffer;
  /** This attempt's number. */
  readonly attempt: number;
  /** When this attempt started, unix ms (`webhook-timestamp` carries its seconds). */
  readonly startedAt: number;
  /** Aborted when a stopping worker gives up waiting: the attempt ends at once, `interrupted`. */
  readonly signal: AbortSignal;
}

/** What one attempt's result means for its delivery: the destination kind's classification. */
export type AttemptOutcome =
  | { readonly kind: 'delivered' }
  /** Try again per the destination's policy; `retryAfterMs` is the delay the destination asked for. */
  | { readonly kind: 'retry'; readonly reason: string; readonly retryAfterMs?: number }
  /** Dead-letter now: the destination refused the event for good. */
  | { readonly kind: 'dead'; readonly reason: string };

/** An outcome other than delivered: what a kind's classification of a failure gives. */
export type FailedOutcome = Exclude<AttemptOutcome, { readonly kind: 'delivered' }>;

/** What an attempt came to, as the worker records it. */
export interface AttemptReport {
  readonly outcome: AttemptOutcome;
  readonly durationMs: number;
  /** Where the kind has one: the HTTP status. */
  readonly statusCode?: number;
  /** What the destination said, on one line: the start of its answer, or its error's message. */
  readonly response?: string;
  /** The shutdown signal ended the attempt: whether the destination saw it is unknown. */
  readonly interrupted?: boolean;
}

/** Delivers to one destination. Never throws: every failure is an outcome. */
export interface DestinationClient {
  deliver(attempt: DeliveryAttempt): Promise<AttemptReport>;
}
