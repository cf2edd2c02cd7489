import type { BackoffPolicy } from '@fanout/core';
import { dispatchPlanOf } from './dispatch-plan.js';
import { deepFreeze } from './freeze.js';
import { SENDER_ID_HEADERS, SENDER_ID_TTL_MS, type Destination, type DestinationPolicy, type EventTypeFilter, type CircuitBreakerPolicy, type Flow, type IdempotencyKeyPolicy, type Ordering, type RateLimit, type RetryPolicy, type S3Credentials, type SourcePolicy, type VerifyPolicy } from './flow.js';
import { jsonPathSegments } from './json-path.js';
import type { DeliveryFlowDocument } from './schema.js';

type Source = DeliveryFlowDocument['spec']['source'];
type Defaults = DeliveryFlowDocument['spec']['defaults'];
type DestinationDocument = DeliveryFlowDocument['spec']['destinations'][number];

/**
 * Turns a validated document into a deeply frozen `Flow`: every destination gets its full
 * policy, each field taken from the destination when set there, else from `spec.defaults`.
 */
export function resolveFlow(document: DeliveryFlowDocument, envTemplates: ReadonlyMap<string, string> = new Map()): Flow {
  const { source, defaults, destinations } = document.spec;
  const name = document.metadata.name;
  const resolved = destinations.map((destination) => resolveDestination(destination, defaults));
  return deepFreeze({
    name,
    version: dispatchPlanOf({ name, destinations: resolved }).version,
    source: resolveSource(source),
    destinations: resolved,
    ...(envTemplates.size > 0 && { envTemplates }),
  });
}

function resolveSource({ maxBodyBytes, idempotencyKey, verify }: Source): SourcePolicy {
  const idempotency = idempotencyKey === false ? {} : { idempotencyKey: idempotencyKey === undefined ? { headers: SENDER_ID_HEADERS, ttlMs: SENDER_ID_TTL_MS } : resolveIdempotencyKey(idempotencyKey) };
  return { maxBodyBytes, ...idempotency, ...(verify && { verify: resolveVerify(verify) }) };
}

function resolveVerify(verify: NonNullable<Source['verify']>): VerifyPolicy {
  // The schema admits exactly one of secret and secrets.
  const secrets = verify.secrets ?? [verify.secret!];
  switch (verify.type) {
    case 'standard-webhooks':
    case 'stripe':
      return { type: verify.type, secrets, toleranceMs: verify.tolerance };
    case 'github':
      return { type: verify.type, secrets };
    case 'hmac-sha256':
      return { type: verify.type, secrets, header: verify.header, encoding: verify.encoding, prefix: verify.prefix };
  }
}

function resolveIdempotencyKey(key: Exclude<NonNullable<Source['idempotencyKey']>, false>): IdempotencyKeyPolicy {
  // The schema admits exactly one of header and jsonPath.
  return key.header !== undefined ? { headers: [key.header], ttlMs: key.ttl } : { path: jsonPathSegments(key.jsonPath!), ttlMs: key.ttl };
}

function resolveDestination(destination: DestinationDocument, defaults: Defaults): Destination {
  const policy = resolvePolicy(destination, defaults);
  switch (destination.type) {
    case 'http': {
      const { signing } = destination;
      return {
        type: 'http',
        name: destination.name,
        url: destination.url,
        headers: { ...destination.headers },
        ...(signing && { signing: { type: signing.type, secrets: signing.secrets ?? [signing.secret!] } }),
        ...policy,
      };
    }
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
  const breaker = destination.circuitBreaker === false ? undefined : resolveBreaker(destination.circuitBreaker ?? defaults.circuitBreaker);
  return {
    timeoutMs: destination.timeout ?? defaults.timeout,
    retry: resolveRetry(destination.retry, defaults.retry),
    // One at a time is what fifo means: spec.defaults.concurrency does not apply to it.
    concurrency: destination.concurrency ?? (destination.ordering === 'fifo' ? 1 : defaults.concurrency),
    ...(rateLimit && { rateLimit }),
    ordering: resolveOrdering(destination.ordering),
    deadLetter: { retentionMs: destination.deadLetter?.retention ?? defaults.deadLetter.retention },
    ...(destination.filter && { filter: resolveFilter(destination.filter) }),
    ...(breaker && { circuitBreaker: breaker }),
    onGone: destination.onGone ?? defaults.onGone,
  };
}

function resolveBreaker(breaker: Defaults['circuitBreaker']): CircuitBreakerPolicy | undefined {
  if (!breaker) return undefined;
  const { consecutiveFailures, failureRate, cooldown, redrive } = breaker;
  // The schema admits exactly one of consecutiveFailures and failureRate.
  const trip = failureRate
    ? { kind: 'failureRate' as const, thresholdPercent: failureRate.threshold, minAttempts: failureRate.minAttempts, windowMs: failureRate.window }
    : { kind: 'consecutiveFailures' as const, count: consecutiveFailures! };
  return { trip, cooldownMs: cooldown, redrive };
}

function resolveOrdering(ordering: DestinationDocument['ordering']): Ordering {
  return typeof ordering === 'object' ? { key: jsonPathSegments(ordering.key) } : (ordering ?? 'none');
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
