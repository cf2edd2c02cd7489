import type { BackoffPolicy } from '@fanout/core';

/**
 * A loaded flow: the DeliveryFlow document validated, `${env:…}` substituted, units turned
 * into numbers and `spec.defaults` merged into every destination. Everything downstream
 * (ingress, dispatcher, workers, admin) reads these types, never the raw document.
 * All durations are milliseconds, all sizes bytes.
 */
export interface Flow {
  readonly name: string;
  readonly source: SourcePolicy;
  readonly destinations: readonly Destination[];
}

export interface SourcePolicy {
  /** Larger bodies are refused with 413. Default 1mb. */
  readonly maxBodyBytes: number;
  /** Absent: every request is a new event. */
  readonly idempotencyKey?: IdempotencyKeyPolicy;
}

/**
 * Where a request's idempotency key is read from, and how long it is remembered: a repeated
 * key inside `ttlMs` is accepted once. Exactly one of `header` and `path` is set.
 */
export type IdempotencyKeyPolicy = { readonly ttlMs: number } & (
  | {
      /** The request header holding the key, as written in the flow (headers ignore case). */
      readonly header: string;
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

/**
 * The longest one attempt of the destination may last, ms: its timeout, plus for a batched
 * s3 destination the batch's maxWait, which an attempt may spend waiting in its batch before
 * the write starts. What a worker's job lock must outlive.
 */
export function longestAttemptMs(destination: Destination): number {
  return destination.timeoutMs + (destination.type === 's3' && destination.batch ? destination.batch.maxWaitMs : 0);
}
