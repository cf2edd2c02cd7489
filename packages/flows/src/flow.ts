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
  /**
   * Every string of the flow that had `${env:…}` substituted, by its value → the string as
   * written. Whatever shows a flow (GET /flows, Bull Board) shows these as written, so a
   * value from the environment is never displayed, whatever its field is called. Absent when
   * nothing was substituted.
   */
  readonly envTemplates?: ReadonlyMap<string, string>;
}

export interface SourcePolicy {
  /** Larger bodies are refused with 413. Default 1mb. */
  readonly maxBodyBytes: number;
  /** Default: the sender's own id (SENDER_ID_HEADERS) for 24h. Absent (`idempotencyKey: false`): every request is a new event (but for the replay defence of a standard-webhooks `verify`). */
  readonly idempotencyKey?: IdempotencyKeyPolicy;
  /** The inbound signature check. Absent: requests are not checked. */
  readonly verify?: VerifyPolicy;
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
 * How a request's signature is checked, over its body as received. Secrets are as written
 * (`whsec_…` is decoded where it is used), newest first; a request verifies when any one
 * matches.
 */
export type VerifyPolicy =
  | {
      /** `webhook-id`, `webhook-timestamp`, `webhook-signature: v1,<base64>…`. */
      readonly type: 'standard-webhooks';
      readonly secrets: readonly string[];
      /** How far webhook-timestamp may be from now, either way, in ms. Default 5m. */
      readonly toleranceMs: number;
    }
  | {
      /** `X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the body>`. */
      readonly type: 'github';
      readonly secrets: readonly string[];
    }
  | {
      /** `Stripe-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">` (several v1 allowed). */
      readonly type: 'stripe';
      readonly secrets: readonly string[];
      /** How far `t` may be from now, either way, in ms. Default 5m. */
      readonly toleranceMs: number;
    }
  | {
      /** `<header>: <prefix><HMAC-SHA256 of the body, in encoding>`. */
      readonly type: 'hmac-sha256';
      readonly secrets: readonly string[];
      /** The header name as written in the flow (headers ignore case). */
      readonly header: string;
      /** Default hex. */
      readonly encoding: 'hex' | 'base64';
      /** Default ''. */
      readonly prefix: string;
    };

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

/**
 * In which order a destination's deliveries go: `none`; `fifo`, one at a time in ingest order;
 * `{ key }`, one at a time in ingest order per value of the key (its path in a JSON body, as
 * property names: `$.customer.id` → ['customer', 'id']).
 */
export type Ordering = 'none' | 'fifo' | { readonly key: readonly string[] };

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

/** When a circuit breaker opens: after `count` failed attempts in a row, or once `thresholdPercent` of at least `minAttempts` attempts of the last `windowMs` failed. */
export type BreakerTrip =
  | { readonly kind: 'consecutiveFailures'; readonly count: number }
  | { readonly kind: 'failureRate'; readonly thresholdPercent: number; readonly minAttempts: number; readonly windowMs: number };

export interface CircuitBreakerPolicy {
  readonly trip: BreakerTrip;
  /** How long it stays open before its probe, ms. Default 30s. */
  readonly cooldownMs: number;
  /** On closing, replay the dead letters that died while it was open. Default false. */
  readonly redrive: boolean;
}

/** The policy every destination has once `spec.defaults` is merged in. */
export interface DestinationPolicy {
  /** Per attempt. Default 10s. */
  readonly timeoutMs: number;
  readonly retry: RetryPolicy;
  /** Attempts in flight at once for this destination, per worker process (with a key ordering: keys in flight at once, across every worker process). Default 10; 1 with fifo. */
  readonly concurrency: number;
  /** Absent: no limit. */
  readonly rateLimit?: RateLimit;
  readonly ordering: Ordering;
  /** How long dead letters are kept. Default 7d. */
  readonly deadLetter: { readonly retentionMs: number };
  /** Absent: every event matches. */
  readonly filter?: EventTypeFilter;
  /** Absent: none. */
  readonly circuitBreaker?: CircuitBreakerPolicy;
  /** What an HTTP 410 Gone does. Default dead-letter. */
  readonly onGone: 'dead-letter' | 'pause';
}

/** Outbound Standard Webhooks signing: one `v1,<base64>` per secret in `webhook-signature`. */
export interface SigningPolicy {
  readonly type: 'standard-webhooks';
  /** As written (`whsec_<base64>`, or a raw string used as its UTF-8 bytes), newest first; at least one. */
  readonly secrets: readonly string[];
}

export interface HttpDestination extends DestinationPolicy {
  readonly type: 'http';
  readonly name: string;
  /** As written; a `user:password@` in it is sent as `Authorization: Basic`. */
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  /** Absent: attempts are not signed. */
  readonly signing?: SigningPolicy;
}

/** A batched s3 destination's limits: an object is written at whichever comes first. */
export interface S3Batch {
  /** Events per object. Default 500. */
  readonly maxEvents: number;
  /** NDJSON bytes per object, before compression. Default 5mb. */
  readonly maxBytes: number;
  /** How long after its first event a batch is written at the latest, ms. Default 10s. */
  readonly maxWaitMs: number;
}

export interface S3Credentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
}

export interface S3Destination extends DestinationPolicy {
  readonly type: 's3';
  readonly name: string;
  readonly bucket: string;
  /** Put before every key. Default "". */
  readonly prefix: string;
  /** Default us-east-1. */
  readonly region: string;
  /** An S3-compatible store's URL (path-style addressing); absent: AWS S3. */
  readonly endpoint?: string;
  /** Absent: the AWS default credential chain. */
  readonly credentials?: S3Credentials;
  /** Absent: one object per event. */
  readonly batch?: S3Batch;
  /** Of batch objects. Default none. */
  readonly compression: 'none' | 'gzip';
}

export interface AmqpDestination extends DestinationPolicy {
  readonly type: 'amqp';
  readonly name: string;
  /** amqp:// or amqps://, credentials in the userinfo. */
  readonly url: string;
  /** Default "" (the default exchange). */
  readonly exchange: string;
  readonly routingKey: string;
  /** Delivery mode 2. Default true. */
  readonly persistent: boolean;
}

export interface NatsDestination extends DestinationPolicy {
  readonly type: 'nats';
  readonly name: string;
  /** nats:// or tls://, credentials in the userinfo. */
  readonly url: string;
  /** Published to JetStream: a stream must capture it. */
  readonly subject: string;
}

export type Destination = HttpDestination | S3Destination | AmqpDestination | NatsDestination;

/** Every destination kind's `type`. */
export const DESTINATION_TYPES = ['http', 's3', 'amqp', 'nats'] as const satisfies readonly Destination['type'][];

/**
 * The longest one attempt of the destination may last, ms: its timeout, plus for a batched
 * s3 destination the batch's maxWait, which an attempt may spend waiting in its batch before
 * the write starts. What a worker's job lock must outlive.
 */
export function longestAttemptMs(destination: Destination): number {
  return destination.timeoutMs + (destination.type === 's3' && destination.batch ? destination.batch.maxWaitMs : 0);
}
