import type { BackoffPolicy } from '@fanout/core';

/**
 * A loaded flow: the DeliveryFlow document validated, `${env:…}` substituted, units turned
 * into numbers and `spec.defaults` merged into every destination. Everything downstream
 * (ingress, dispatcher, workers, admin) reads these types, never the raw document.
 * All durations are milliseconds, all sizes bytes.
 */
export interface Flow {
  readonly name: string;
  /** The version of its dispatch plan (see DispatchPlan): equal for every process that loads the same flow. */
  readonly version: string;
  readonly source: SourcePolicy;
  readonly destinations: readonly Destination[];
}

export interface SourcePolicy {
  /** Larger bodies are refused with 413. Default 1mb. */
  readonly maxBodyBytes: number;
  /** Default: the sender's own id (SENDER_ID_HEADERS) for 24h. Absent (`idempotencyKey: false`): every request is a new event. */
  readonly idempotencyKey?: IdempotencyKeyPolicy;
}

/**
 * Headers a flow without an idempotency key of its own takes the key from, the first present:
 * the ids senders keep for an event across their own retries (Standard Webhooks' webhook-id,
 * GitHub's X-GitHub-Delivery), so a sender's retry after an unanswered request is stored once.
 */
export const SENDER_ID_HEADERS: readonly string[] = ['webhook-id', 'x-github-delivery'];

/** How long a sender's id is remembered when the flow sets no idempotency key, in ms. */
export const SENDER_ID_TTL_MS = 24 * 3_600_000;

/**
 * Where a request's idempotency key is read from, and how long it is remembered: a repeated
 * key inside `ttlMs` is accepted once. Exactly one of `headers` and `path` is set.
 */
export type IdempotencyKeyPolicy = { readonly ttlMs: number } & (
  | {
      /** The request headers holding the key, the first present one wins (headers ignore case). */
      readonly headers: readonly string[];
    }
  | {
      /** Where the key is read from a JSON body, as property names: `$.data.id` → ['data', 'id']. */
      readonly path: readonly string[];
    }
);

export interface RetryPolicy {
  /** Total attempts, the first included. Default 8. */
  readonly attempts: number;
  /** Default exponential, 1s, maxDelay 1h, jitter full. */
  readonly backoff: BackoffPolicy;
}

export interface RateLimit {
  /** At most `max` attempts start per `perMs` window. */
  readonly max: number;
  readonly perMs: number;
}

export interface EventTypeFilter {
  /** The event types this destination receives. */
  readonly eventTypes: readonly string[];
  /** Where the event type is read from a JSON body, as property names: `$.type` → ['type']. Default `$.type`. */
  readonly path: readonly string[];
}

/** The policy every destination has once `spec.defaults` is merged in. */
export interface DestinationPolicy {
  /** Per attempt. Default 10s. */
  readonly timeoutMs: number;
  readonly retry: RetryPolicy;
  /** Attempts in flight at once for this destination, per worker process. Default 10. */
  readonly concurrency: number;
  /** Absent: no limit. */
  readonly rateLimit?: RateLimit;
  readonly ordering: 'none';
  /** How long dead letters are kept. Default 7d. */
  readonly deadLetter: { readonly retentionMs: number };
  /** Absent: every event matches. */
  readonly filter?: EventTypeFilter;
}

export interface HttpDestination extends DestinationPolicy {
  readonly type: 'http';
  readonly name: string;
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
}

export type Destination = HttpDestination;
