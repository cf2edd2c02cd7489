import { describe, expect, it } from '@jest/globals';
import { parse, stringify } from 'yaml';
import { FlowLoadError } from './errors.js';
import { parseFlowDocuments } from './parse-flow-documents.js';

// The DeliveryFlow example of the product contract, verbatim. It is not valid YAML: the
// unquoted ${env:…} inside the { } of `signing` ends that mapping early.
const CONTRACT_EXAMPLE_VERBATIM = `
apiVersion: fanout.dev/v1
kind: DeliveryFlow
metadata:
  name: payments                 # [a-z0-9-], unique; the webhook URL is /webhooks/payments
spec:
  source:
    maxBodyBytes: 1mb            # larger bodies get 413
    idempotencyKey:              # optional: repeated keys inside ttl are accepted once
      header: Idempotency-Key    # or  jsonPath: $.id
      ttl: 24h
    verify:                      # optional inbound signature check; failures get 401
      type: standard-webhooks    # or github, stripe, hmac-sha256
      secret: \${env:PAYMENTS_SECRET}
  defaults:                      # inherited by every destination, each may override
    timeout: 10s
    retry:
      attempts: 8                # total attempts, the first included
      backoff: { type: exponential, delay: 1s, maxDelay: 1h, jitter: full }
    concurrency: 10
  destinations:
    - name: orders               # [a-z0-9-], unique within the flow
      type: http
      url: https://orders.example.com/hooks/payment
      headers: { X-Team: orders }
      signing: { type: standard-webhooks, secret: \${env:ORDERS_SIGNING_SECRET} }
      filter: { eventTypes: [payment.succeeded] }   # taken from jsonPath $.type by default
      timeout: 5s
      retry: { attempts: 10, backoff: { type: exponential, delay: 2s } }
      concurrency: 20
      rateLimit: { max: 100, per: 1s }
      ordering: none             # none | fifo
      deadLetter: { retention: 7d }
    - name: archive
      type: s3
      bucket: payment-events
      prefix: payments/
      endpoint: http://minio:9000   # optional, for S3-compatible stores
      region: us-east-1
      batch: { maxEvents: 500, maxWait: 10s }       # optional: NDJSON objects
`;

// The same with that one value quoted, as the docs tell users to write it.
const CONTRACT_EXAMPLE = CONTRACT_EXAMPLE_VERBATIM.replace('secret: ${env:ORDERS_SIGNING_SECRET} }', 'secret: "${env:ORDERS_SIGNING_SECRET}" }');

// Standard Webhooks secrets: whsec_ and the base64 of a key ("payments", "orders").
const ENV = { PAYMENTS_SECRET: 'whsec_cGF5bWVudHM=', ORDERS_SIGNING_SECRET: 'whsec_b3JkZXJz' };

interface Example {
  spec: {
    source: Record<string, unknown>;
    destinations: Array<Record<string, unknown>>;
  };
}

/** The contract example, as loaded: quoted as the docs say. */
function example(): Example {
  return parse(CONTRACT_EXAMPLE) as Example;
}

function load(document: unknown) {
  return parseFlowDocuments(stringify(document), 'flows/payments.yaml', ENV);
}

function loadError(document: unknown): FlowLoadError {
  try {
    load(document);
  } catch (error) {
    if (error instanceof FlowLoadError) return error;
    throw error;
  }
  throw new Error('expected a FlowLoadError');
}

describe('the contract example', () => {
  it('as printed is a YAML error that says to quote the ${env:…} value', () => {
    expect(() => parseFlowDocuments(CONTRACT_EXAMPLE_VERBATIM, 'flows/payments.yaml', ENV)).toThrow(
      // The text starts with a newline, so line 26 is the `signing` line.
      'flows/payments.yaml document 1: invalid YAML at line 26, column 52: Unexpected flow-map-start at node end (put a value holding ${env:…} inside { } or [ ] in quotes)',
    );
  });

  it('loads, all of it, to the policy it describes', () => {
    expect(load(example())).toEqual([
      {
        name: 'payments',
        version: expect.stringMatching(/^[0-9a-f]{12}$/),
        source: {
          maxBodyBytes: 1_048_576,
          idempotencyKey: { headers: ['Idempotency-Key'], ttlMs: 86_400_000 },
          verify: { type: 'standard-webhooks', secrets: ['whsec_cGF5bWVudHM='], toleranceMs: 300_000 },
        },
        destinations: [
          {
            type: 'http',
            name: 'orders',
            url: 'https://orders.example.com/hooks/payment',
            headers: { 'X-Team': 'orders' },
            signing: { type: 'standard-webhooks', secrets: ['whsec_b3JkZXJz'] },
            filter: { eventTypes: ['payment.succeeded'], path: ['type'] },
            timeoutMs: 5_000,
            retry: { attempts: 10, backoff: { type: 'exponential', delayMs: 2_000, maxDelayMs: 3_600_000, jitter: 'full' } },
            concurrency: 20,
            rateLimit: { max: 100, perMs: 1_000 },
            ordering: 'none',
            deadLetter: { retentionMs: 604_800_000 },
            onGone: 'dead-letter',
          },
          {
            type: 's3',
            name: 'archive',
            bucket: 'payment-events',
            prefix: 'payments/',
            endpoint: 'http://minio:9000',
            region: 'us-east-1',
            batch: { maxEvents: 500, maxBytes: 5_242_880, maxWaitMs: 10_000 },
            compression: 'none',
            timeoutMs: 10_000,
            retry: { attempts: 8, backoff: { type: 'exponential', delayMs: 1_000, maxDelayMs: 3_600_000, jitter: 'full' } },
            // Two batches of 500 in flight: one collects while the other is written.
            concurrency: 1_000,
            ordering: 'none',
            deadLetter: { retentionMs: 604_800_000 },
            onGone: 'dead-letter',
          },
        ],
        envTemplates: new Map([
          ['whsec_cGF5bWVudHM=', '${env:PAYMENTS_SECRET}'],
          ['whsec_b3JkZXJz', '${env:ORDERS_SIGNING_SECRET}'],
        ]),
      },
    ]);
  });

  it.each([
    [
      'spec.destinations[0].concurrency',
      'concurrency 20 with ordering fifo: fifo delivers one event at a time; remove concurrency (or set it to 1), or order by a key',
      (example: Example) => (example.spec.destinations[0]!['ordering'] = 'fifo'),
    ],
    ['spec.destinations[1].ordering', 'an s3 batch writes its events together, which no ordering allows: remove batch or ordering', (example: Example) => (example.spec.destinations[1]!['ordering'] = { key: '$.customer.id' })],
  ])('refuses %s alone: "%s"', (path, message, add) => {
    const document = example();
    add(document);
    const error = loadError(document);
    expect(error.issues).toEqual([{ path, message }]);
    expect(error.message).toBe(`flows/payments.yaml document 1: ${path}: ${message}`);
  });

  it('checks each destination kind for its own fields', () => {
    const document = example();
    document.spec.destinations.push({ name: 'archive-eu', type: 's3' });
    expect(loadError(document).message).toBe('flows/payments.yaml document 1: spec.destinations[2].bucket: expected a string, but it is missing');
  });
});
