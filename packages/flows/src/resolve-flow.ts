import type { BackoffPolicy } from '@fanout/core';
import { deepFreeze } from './freeze.js';
import type { Destination, DestinationPolicy, EventTypeFilter, Flow, IdempotencyKeyPolicy, RateLimit, RetryPolicy, S3Credentials, SourcePolicy } from './flow.js';
import { jsonPathSegments } from './json-path.js';
import type { DeliveryFlowDocument } from './schema.js';

type Source = DeliveryFlowDocument['spec']['source'];
type Defaults = DeliveryFlowDocument['spec']['defaults'];
type DestinationDocument = DeliveryFlowDocument['spec']['destinations'][number];

/**
 * Turns a validated document into a deeply frozen `Flow`: every destination gets its full
 * policy, each field taken from the destination when set there, else from `spec.defaults`.
 */
export function resolveFlow(document: DeliveryFlowDocument): Flow {
  const { source, defaults, destinations } = document.spec;
  return deepFreeze({
    name: document.metadata.name,
    source: resolveSource(source),
    destinations: destinations.map((destination) => resolveDestination(destination, defaults)),
  });
}

function resolveSource({ maxBodyBytes, idempotencyKey }: Source): SourcePolicy {
  return { maxBodyBytes, ...(idempotencyKey && { idempotencyKey: resolveIdempotencyKey(idempotencyKey) }) };
}

function resolveIdempotencyKey(key: NonNullable<Source['idempotencyKey']>): IdempotencyKeyPolicy {
  // The schema admits exactly one of header and jsonPath.
  return key.header !== undefined ? { header: key.header, ttlMs: key.ttl } : { path: jsonPathSegments(key.jsonPath!), ttlMs: key.ttl };
}

function resolveDestination(destination: DestinationDocument, defaults: Defaults): Destination {
  const policy = resolvePolicy(destination, defaults);
  switch (destination.type) {
    case 'http':
      return { type: 'http', name: destination.name, url: destination.url, headers: { ...destination.headers }, ...policy };
    case 's3': {
      const { batch, credentials, endpoint } = destination;
      return {
        type: 's3',
        name: destination.name,
        bucket: destination.bucket,
        prefix: destination.prefix,
        region: destination.region,
        ...(endpoint !== undefined && { endpoint }),
        ...(credentials && { credentials: resolveCredentials(credentials) }),
        ...(batch && { batch: { maxEvents: batch.maxEvents, maxBytes: batch.maxBytes, maxWaitMs: batch.maxWait } }),
        compression: destination.compression,
        ...policy,
        // A batch fills only with its deliveries in flight together: room for two, so one
        // collects while the one before it is written (the schema refuses less than one).
        ...(batch && destination.concurrency === undefined && { concurrency: Math.max(policy.concurrency, 2 * batch.maxEvents) }),
      };
    }
    case 'amqp':
      return { type: 'amqp', name: destination.name, url: destination.url, exchange: destination.exchange, routingKey: destination.routingKey, persistent: destination.persistent, ...policy };
    case 'nats':
      return { type: 'nats', name: destination.name, url: destination.url, subject: destination.subject, ...policy };
  }
}

function resolveCredentials({ accessKeyId, secretAccessKey, sessionToken }: NonNullable<Extract<DestinationDocument, { type: 's3' }>['credentials']>): S3Credentials {
  return { accessKeyId, secretAccessKey, ...(sessionToken !== undefined && { sessionToken }) };
}

function resolvePolicy(destination: DestinationDocument, defaults: Defaults): DestinationPolicy {
  const rateLimit = resolveRateLimit(destination.rateLimit ?? defaults.rateLimit);
  return {
    timeoutMs: destination.timeout ?? defaults.timeout,
    retry: resolveRetry(destination.retry, defaults.retry),
    concurrency: destination.concurrency ?? defaults.concurrency,
    ...(rateLimit && { rateLimit }),
    ordering: destination.ordering ?? 'none',
    deadLetter: { retentionMs: destination.deadLetter?.retention ?? defaults.deadLetter.retention },
    ...(destination.filter && { filter: resolveFilter(destination.filter) }),
  };
}

function resolveRetry(override: DestinationDocument['retry'], defaults: Defaults['retry']): RetryPolicy {
  const backoff: BackoffPolicy = {
    type: override?.backoff?.type ?? defaults.backoff.type,
    delayMs: override?.backoff?.delay ?? defaults.backoff.delay,
    maxDelayMs: override?.backoff?.maxDelay ?? defaults.backoff.maxDelay,
    jitter: override?.backoff?.jitter ?? defaults.backoff.jitter,
  };
  return { attempts: override?.attempts ?? defaults.attempts, backoff };
}

function resolveRateLimit(rateLimit: Defaults['rateLimit']): RateLimit | undefined {
  return rateLimit && { max: rateLimit.max, perMs: rateLimit.per };
}

function resolveFilter(filter: NonNullable<DestinationDocument['filter']>): EventTypeFilter {
  return { eventTypes: [...filter.eventTypes], path: jsonPathSegments(filter.jsonPath) };
}
