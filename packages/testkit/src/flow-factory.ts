import { dispatchPlanOf, type AmqpDestination, type Destination, type DestinationPolicy, type Flow, type HttpDestination, type NatsDestination, type S3Destination } from '@fanout/flows';

export type DestinationOverrides = Partial<Omit<HttpDestination, 'name' | 'url' | 'type'>> & { name: string; url: string };

/** The policy test destinations share: 3 attempts, 50 ms fixed backoff, 2 s timeout, concurrency 5. */
const TEST_POLICY: DestinationPolicy = {
  timeoutMs: 2_000,
  retry: { attempts: 3, backoff: { type: 'fixed', delayMs: 50, maxDelayMs: 1_000, jitter: 'none' } },
  concurrency: 5,
  ordering: 'none',
  deadLetter: { retentionMs: 86_400_000 },
  onGone: 'dead-letter',
};

/** An http destination with test-friendly defaults: 3 attempts, 50 ms fixed backoff, 2 s timeout. */
export function httpDestination({ name, url, ...overrides }: DestinationOverrides): HttpDestination {
  return { type: 'http', name, url, headers: {}, ...TEST_POLICY, ...overrides };
}

/** An s3 destination with the test policy, one object per event unless `batch` is given. */
export function s3Destination(overrides: Partial<Omit<S3Destination, 'type'>> & Pick<S3Destination, 'name' | 'bucket'>): S3Destination {
  return { type: 's3', prefix: '', region: 'us-east-1', compression: 'none', ...TEST_POLICY, ...overrides };
}

export function amqpDestination(overrides: Partial<Omit<AmqpDestination, 'type'>> & Pick<AmqpDestination, 'name' | 'url' | 'routingKey'>): AmqpDestination {
  return { type: 'amqp', exchange: '', persistent: true, ...TEST_POLICY, ...overrides };
}

export function natsDestination(overrides: Partial<Omit<NatsDestination, 'type'>> & Pick<NatsDestination, 'name' | 'url' | 'subject'>): NatsDestination {
  return { type: 'nats', ...TEST_POLICY, ...overrides };
}

export function testFlow(name: string, destinations: readonly Destination[], maxBodyBytes = 1_048_576): Flow {
  return { name, version: dispatchPlanOf({ name, destinations }).version, source: { maxBodyBytes }, destinations };
}
