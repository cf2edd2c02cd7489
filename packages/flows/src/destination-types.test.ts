import { describe, expect, it } from '@jest/globals';
import { FlowLoadError } from './errors.js';
import { longestAttemptMs, type Destination } from './flow.js';
import { parseFlowDocuments } from './parse-flow-documents.js';

function flowWith(destination: string, env: NodeJS.ProcessEnv = {}): Destination {
  const text = ['apiVersion: fanout.dev/v1', 'kind: DeliveryFlow', 'metadata: { name: payments }', 'spec:', '  destinations:', `    - ${destination}`, ''].join('\n');
  const [flow] = parseFlowDocuments(text, 'flows/payments.yaml', env);
  return flow!.destinations[0]!;
}

function loadError(destination: string): string {
  try {
    flowWith(destination);
  } catch (error) {
    if (error instanceof FlowLoadError) return error.message.replace('flows/payments.yaml document 1: ', '');
    throw error;
  }
  throw new Error('expected a FlowLoadError');
}

const POLICY = {
  timeoutMs: 10_000,
  retry: { attempts: 8, backoff: { type: 'exponential', delayMs: 1_000, maxDelayMs: 3_600_000, jitter: 'full' } },
  concurrency: 10,
  ordering: 'none',
  deadLetter: { retentionMs: 604_800_000 },
  onGone: 'dead-letter',
};

describe('type: s3', () => {
  it('resolves a bare destination to one object per event with the documented defaults', () => {
    expect(flowWith('{ name: archive, type: s3, bucket: events }')).toEqual({ type: 's3', name: 'archive', bucket: 'events', prefix: '', region: 'us-east-1', compression: 'none', ...POLICY });
  });

  it('resolves every field, ${env:…} credentials included', () => {
    const destination = flowWith(
      '{ name: archive, type: s3, bucket: events, prefix: p/, region: eu-west-1, endpoint: "http://minio:9000", credentials: { accessKeyId: "${env:KEY}", secretAccessKey: "${env:SECRET}" }, batch: { maxEvents: 10, maxBytes: 1kb, maxWait: 2s }, compression: gzip, concurrency: 30 }',
      { KEY: 'AKIA1', SECRET: 's3cr3t' },
    );
    expect(destination).toEqual({
      type: 's3',
      name: 'archive',
      bucket: 'events',
      prefix: 'p/',
      region: 'eu-west-1',
      endpoint: 'http://minio:9000',
      credentials: { accessKeyId: 'AKIA1', secretAccessKey: 's3cr3t' },
      batch: { maxEvents: 10, maxBytes: 1_024, maxWaitMs: 2_000 },
      compression: 'gzip',
      ...POLICY,
      concurrency: 30,
    });
    expect(longestAttemptMs(destination)).toBe(12_000);
  });

  it('gives a batch the documented limits, and room for two batches in flight unless concurrency is set', () => {
    const destination = flowWith('{ name: archive, type: s3, bucket: events, batch: {} }');
    expect(destination).toMatchObject({ batch: { maxEvents: 500, maxBytes: 5_242_880, maxWaitMs: 10_000 }, concurrency: 1_000 });
  });

  it.each([
    ['{ name: a, type: s3, bucket: b, compression: gzip }', 'spec.destinations[0].compression: compression applies to batches only: set batch, or leave compression out'],
    ['{ name: a, type: s3, bucket: b, batch: { maxEvents: 50 }, concurrency: 49 }', 'spec.destinations[0].concurrency: a batch waits with its deliveries in flight, so concurrency must be at least batch.maxEvents (50)'],
    ['{ name: a, type: s3, bucket: b, compression: zstd }', 'spec.destinations[0].compression: expected one of none, gzip, got "zstd"'],
    ['{ name: a, type: s3, bucket: "" }', 'spec.destinations[0].bucket: expected a non-empty string'],
    ['{ name: a, type: s3, bucket: b, endpoint: "minio:9000" }', 'spec.destinations[0].endpoint: expected an http:// or https:// URL'],
    ['{ name: a, type: s3, bucket: b, credentials: { accessKeyId: k } }', 'spec.destinations[0].credentials.secretAccessKey: expected a string, but it is missing'],
    ['{ name: a, type: s3, bucket: b, batch: { maxWait: 0s } }', 'spec.destinations[0].batch.maxWait: expected a duration longer than 0'],
    ['{ name: a, type: s3, bucket: b, url: "http://x" }', 'spec.destinations[0].url: unknown field'],
  ])('refuses %s', (destination, message) => {
    expect(loadError(destination)).toContain(message);
  });
});

describe('type: amqp', () => {
  it('resolves with the documented defaults', () => {
    expect(flowWith('{ name: bus, type: amqp, url: "amqp://u:p@rabbit:5672/vh", routingKey: orders }')).toEqual({ type: 'amqp', name: 'bus', url: 'amqp://u:p@rabbit:5672/vh', exchange: '', routingKey: 'orders', persistent: true, ...POLICY });
    expect(flowWith('{ name: bus, type: amqp, url: "amqps://rabbit", exchange: events, routingKey: "", persistent: false }')).toMatchObject({ exchange: 'events', routingKey: '', persistent: false });
  });

  it.each([
    ['{ name: a, type: amqp, url: "http://rabbit", routingKey: q }', 'spec.destinations[0].url: expected an amqp:// or amqps:// URL, got "http://rabbit"'],
    ['{ name: a, type: amqp, url: "amqp://rabbit" }', 'spec.destinations[0].routingKey: expected a routing key (a string), but it is missing'],
    ['{ name: a, type: amqp, url: "amqp://rabbit", routingKey: "" }', 'spec.destinations[0].routingKey: the default exchange routes by queue name: give the queue as routingKey'],
  ])('refuses %s', (destination, message) => {
    expect(loadError(destination)).toContain(message);
  });
});

describe('type: nats', () => {
  it('resolves', () => {
    expect(flowWith('{ name: js, type: nats, url: "nats://127.0.0.1:4222", subject: payments.created }')).toEqual({ type: 'nats', name: 'js', url: 'nats://127.0.0.1:4222', subject: 'payments.created', ...POLICY });
  });

  it.each([
    ['{ name: a, type: nats, url: "nats://n", subject: "payments.*" }', 'spec.destinations[0].subject: expected a NATS subject such as orders.created: dot-separated tokens without spaces or the wildcards * and >, got "payments.*"'],
    ['{ name: a, type: nats, url: "nats://n", subject: "a..b" }', 'spec.destinations[0].subject: expected a NATS subject'],
    ['{ name: a, type: nats, url: "amqp://n", subject: s }', 'spec.destinations[0].url: expected a nats:// or tls:// URL, got "amqp://n"'],
  ])('refuses %s', (destination, message) => {
    expect(loadError(destination)).toContain(message);
  });
});
