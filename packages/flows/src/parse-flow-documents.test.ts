import { FanoutError } from '@fanout/core';
import { describe, expect, it } from '@jest/globals';
import { FlowLoadError } from './errors.js';
import { parseFlowDocuments } from './parse-flow-documents.js';

const ORDERS = '{ name: orders, type: http, url: https://orders.example.com/hook }';

/** A valid flow document; each part can be replaced to make it invalid in one place. */
function flowYaml({ name = 'payments', spec = '', destinations = [ORDERS], extra = '' } = {}): string {
  return [
    'apiVersion: fanout.dev/v1',
    'kind: DeliveryFlow',
    `metadata: { name: ${name} }`,
    extra,
    'spec:',
    spec,
    '  destinations:',
    ...destinations.map((destination) => `    - ${destination}`),
    '',
  ].join('\n');
}

/** The orders destination with more fields. */
function orders(fields: string): string {
  return `{ name: orders, type: http, url: https://orders.example.com/hook, ${fields} }`;
}

function loadError(text: string, env: NodeJS.ProcessEnv = {}): FlowLoadError {
  try {
    parseFlowDocuments(text, 'flows/payments.yaml', env);
  } catch (error) {
    if (error instanceof FlowLoadError) return error;
    throw error;
  }
  throw new Error('expected a FlowLoadError');
}

describe('parseFlowDocuments: bad documents', () => {
  it.each([
    ['an unknown top-level field', flowYaml({ extra: 'status: {}' }), 'status', 'unknown field'],
    ['an unknown destination field', flowYaml({ destinations: [orders('colour: red')] }), 'spec.destinations[0].colour', 'unknown field'],
    ['an unknown backoff field', flowYaml({ spec: '  defaults: { retry: { backoff: { factor: 2 } } }' }), 'spec.defaults.retry.backoff.factor', 'unknown field'],
    ['a misspelt destination field', flowYaml({ destinations: [orders('timout: 5s')] }), 'spec.destinations[0].timout', 'unknown field; did you mean timeout?'],
    ['a field in the wrong case', flowYaml({ destinations: [orders('ratelimit: { max: 1, per: 1s }')] }), 'spec.destinations[0].ratelimit', 'unknown field; did you mean rateLimit?'],
    ['retries for retry', flowYaml({ destinations: [orders('retries: 3')] }), 'spec.destinations[0].retries', 'unknown field; did you mean retry?'],
    ['a misspelt spec field', flowYaml({ spec: '  default: { timeout: 5s }' }), 'spec.default', 'unknown field; did you mean defaults?'],
    ['a misspelt metadata field', flowYaml().replace('metadata: { name: payments }', 'metadata: { name: payments, label: { a: b } }'), 'metadata.label', 'unknown field; did you mean labels?'],
    ['a field of another destination type', flowYaml({ destinations: [orders('buckets: x')] }), 'spec.destinations[0].buckets', 'unknown field'],
    ['a name with capitals', flowYaml({ name: 'Payments' }), 'metadata.name', 'expected a name of at most 63 characters a-z, 0-9 and "-", starting with a letter or digit, got "Payments"'],
    ['a name of 64 characters', flowYaml({ name: 'p'.repeat(64) }), 'metadata.name', 'expected a name of at most 63 characters'],
    ['a name starting with "-"', flowYaml({ name: '-payments' }), 'metadata.name', 'expected a name of at most 63 characters a-z, 0-9 and "-", starting with a letter or digit, got "-payments"'],
    ['a duplicate destination name', flowYaml({ destinations: [ORDERS, ORDERS] }), 'spec.destinations[1].name', 'destination name "orders" is already used by spec.destinations[0]'],
    ['attempts 0', flowYaml({ destinations: [orders('retry: { attempts: 0 }')] }), 'spec.destinations[0].retry.attempts', 'expected a whole number ≥ 1, got 0'],
    ['a duration in parsecs', flowYaml({ destinations: [orders('timeout: 10 parsecs')] }), 'spec.destinations[0].timeout', 'expected a duration such as 500ms, 10s, 5m, 1h or 7d, or whole milliseconds, got "10 parsecs"'],
    ['a negative duration', flowYaml({ spec: '  defaults: { timeout: -5 }' }), 'spec.defaults.timeout', 'expected a duration such as 500ms, 10s, 5m, 1h or 7d, or whole milliseconds, got -5'],
    ['a zero timeout', flowYaml({ spec: '  defaults: { timeout: 0s }' }), 'spec.defaults.timeout', 'expected a duration longer than 0, got 0'],
    ['an empty duration', flowYaml({ spec: '  defaults: { timeout: }' }), 'spec.defaults.timeout', 'expected a duration such as 500ms, 10s, 5m, 1h or 7d, or whole milliseconds, got an empty value'],
    ['a size in gigabytes', flowYaml({ spec: '  source: { maxBodyBytes: 1gb }' }), 'spec.source.maxBodyBytes', 'expected a size such as 512kb or 1mb, or whole bytes, got "1gb"'],
    ['an ftp url', flowYaml({ destinations: ['{ name: orders, type: http, url: ftp://orders.example.com }'] }), 'spec.destinations[0].url', 'expected an http:// or https:// URL, got "ftp://orders.example.com"'],
    ['a url that is no URL', flowYaml({ destinations: ['{ name: orders, type: http, url: orders }'] }), 'spec.destinations[0].url', 'expected an http:// or https:// URL, got "orders"'],
    ['a missing url', flowYaml({ destinations: ['{ name: orders, type: http }'] }), 'spec.destinations[0].url', 'expected an http:// or https:// URL, but it is missing'],
    ['an unknown destination type', flowYaml({ destinations: ['{ name: orders, type: ftp }'] }), 'spec.destinations[0].type', 'expected one of http, s3, amqp, nats, got "ftp"'],
    ['no destination type', flowYaml({ destinations: ['{ name: orders }'] }), 'spec.destinations[0].type', 'expected one of http, s3, amqp, nats, but it is missing'],
    ['an empty destination list', flowYaml({ destinations: [] }).replace('destinations:', 'destinations: []'), 'spec.destinations', 'expected at least one destination, got an empty list'],
    ['no destinations', 'apiVersion: fanout.dev/v1\nkind: DeliveryFlow\nmetadata: { name: payments }\nspec: {}\n', 'spec.destinations', 'expected a list of destinations, but it is missing'],
    ['a wrong apiVersion', flowYaml().replace('fanout.dev/v1', 'fanout.dev/v2'), 'apiVersion', 'expected "fanout.dev/v1", got "fanout.dev/v2"'],
    ['a wrong kind', flowYaml().replace('kind: DeliveryFlow', 'kind: Flow'), 'kind', 'expected "DeliveryFlow", got "Flow"'],
    ['a rateLimit without per', flowYaml({ destinations: [orders('rateLimit: { max: 100 }')] }), 'spec.destinations[0].rateLimit.per', 'expected a duration such as 500ms, 10s, 5m, 1h or 7d, or whole milliseconds, but it is missing'],
    ['a fractional concurrency', flowYaml({ destinations: [orders('concurrency: 1.5')] }), 'spec.destinations[0].concurrency', 'expected a whole number ≥ 1, got 1.5'],
    ['an unknown jitter', flowYaml({ spec: '  defaults: { retry: { backoff: { jitter: half } } }' }), 'spec.defaults.retry.backoff.jitter', 'expected one of full, none, got "half"'],
    ['an unknown ordering', flowYaml({ destinations: [orders('ordering: random')] }), 'spec.destinations[0].ordering', 'expected none, fifo or { key: $.path }, got "random"'],
    ['a filter with a JSON path index', flowYaml({ destinations: [orders('filter: { eventTypes: [a], jsonPath: "$.items[0].type" }')] }), 'spec.destinations[0].filter.jsonPath', 'expected a simple dotted JSON path such as $.type or $.data.kind, got "$.items[0].type"'],
    ['a filter without event types', flowYaml({ destinations: [orders('filter: { eventTypes: [] }')] }), 'spec.destinations[0].filter.eventTypes', 'expected at least one event type, got an empty list'],
    ['a header fanout sets itself', flowYaml({ destinations: [orders('headers: { Webhook-Id: x }')] }), 'spec.destinations[0].headers.Webhook-Id', 'Webhook-Id is set by fanout on every delivery and cannot be configured'],
    ['a header name with a space', flowYaml({ destinations: [orders('headers: { "X Team": orders }')] }), 'spec.destinations[0].headers["X Team"]', 'expected an HTTP header name, got "X Team"'],
    ['an idempotency key with both header and jsonPath', flowYaml({ spec: '  source: { idempotencyKey: { header: Idempotency-Key, jsonPath: $.id, ttl: 24h } }' }), 'spec.source.idempotencyKey', 'give exactly one of header or jsonPath'],
    ['a document that is a list', '- payments\n', '', 'expected a mapping, got a list'],
    ['a YAML syntax error', 'apiVersion: fanout.dev/v1\nkind: [DeliveryFlow\nmetadata: {}\n', '', 'invalid YAML at line 3, column 1: '],
    ['a key given twice', 'apiVersion: fanout.dev/v1\napiVersion: fanout.dev/v1\n', '', 'invalid YAML at line 2, column 1: Map keys must be unique'],
    ['an unknown YAML tag', flowYaml({ destinations: ['{ name: orders, type: http, url: !secret https://orders.example.com }'] }), '', 'invalid YAML at line 8, column 40: Unresolved tag: !secret'],
  ])('%s', (_case, text, path, fragment) => {
    const error = loadError(text);
    expect(error.path).toBe(path);
    expect(error.message).toContain(path === '' ? `document 1: ${fragment}` : `document 1: ${path}: ${fragment}`);
    expect(error.message).not.toContain('\n');
  });
});

describe('parseFlowDocuments: Kubernetes resources', () => {
  it('loads a resource as kubectl applies it, with namespace, labels and annotations', () => {
    const resource = flowYaml().replace(
      'metadata: { name: payments }',
      'metadata:\n  name: payments\n  namespace: shop\n  labels: { app.kubernetes.io/part-of: shop }\n  annotations: { kubectl.kubernetes.io/last-applied-configuration: "{}" }',
    );
    expect(parseFlowDocuments(resource, 'f.yaml', {}).map((flow) => flow.name)).toEqual(['payments']);
  });

  it('refuses a label that is not a string', () => {
    const error = loadError(flowYaml().replace('metadata: { name: payments }', 'metadata: { name: payments, labels: { tier: 1 } }'));
    expect(error.message).toContain('metadata.labels.tier: expected a label value (a string), got 1');
  });
});

describe('parseFlowDocuments: the error', () => {
  it('names file, document and path in one line', () => {
    const second = flowYaml({ name: 'refunds', destinations: [ORDERS.replace('orders', 'a'), ORDERS.replace('orders', 'b'), orders('retry: { attempts: 0 }')] });
    const error = loadError(`${flowYaml()}---\n${second}`);
    expect(error.message).toBe('flows/payments.yaml document 2: spec.destinations[2].retry.attempts: expected a whole number ≥ 1, got 0');
    expect(error).toBeInstanceOf(FanoutError);
    expect(error).toMatchObject({ code: 'FLOW_INVALID', name: 'FlowLoadError', file: 'flows/payments.yaml', document: 2, path: 'spec.destinations[2].retry.attempts' });
  });

  it('lists several problems joined by "; " and counts those it leaves out', () => {
    const destinations = [1, 2, 3, 4, 5, 6, 7].map((n) => `{ name: d${n}, type: http, url: https://x.example.com, retry: { attempts: 0 } }`);
    const error = loadError(flowYaml({ destinations }));
    expect(error.issues).toHaveLength(7);
    expect(error.message).toMatch(/^flows\/payments\.yaml document 1: spec\.destinations\[0\]\.retry\.attempts: expected a whole number ≥ 1, got 0; spec\.destinations\[1\]/);
    expect(error.message).toMatch(/spec\.destinations\[4\]\.retry\.attempts: expected a whole number ≥ 1, got 0; and 2 more$/);
  });
});

describe('parseFlowDocuments: ${env:…}', () => {
  const env = { ORDERS_HOST: 'orders.example.com', ORDERS_TOKEN: 's3cr3t', EMPTY: '' };

  it('replaces whole and embedded references in string values', () => {
    const [flow] = parseFlowDocuments(flowYaml({ destinations: [orders('url: "https://${env:ORDERS_HOST}/hook", headers: { Authorization: "Bearer ${env:ORDERS_TOKEN}", X-Empty: "${env:EMPTY}" }').replace(', url: https://orders.example.com/hook', '')] }), 'f.yaml', env);
    expect(flow?.destinations[0]).toMatchObject({ url: 'https://orders.example.com/hook', headers: { Authorization: 'Bearer s3cr3t', 'X-Empty': '' } });
  });

  it('leaves text without a complete reference alone', () => {
    const [flow] = parseFlowDocuments(flowYaml({ destinations: [orders('headers: { X-Literal: "$ORDERS_TOKEN {env:x} ${ORDERS_TOKEN}" }')] }), 'f.yaml', env);
    expect(flow?.destinations[0]).toMatchObject({ headers: { 'X-Literal': '$ORDERS_TOKEN {env:x} ${ORDERS_TOKEN}' } });
  });

  it('refuses a variable that is not set, naming it and the path', () => {
    const error = loadError(flowYaml({ destinations: [orders('headers: { Authorization: "Bearer ${env:ORDERS_TOKEN}" }')] }), {});
    expect(error.message).toBe('flows/payments.yaml document 1: spec.destinations[0].headers.Authorization: environment variable ORDERS_TOKEN is not set');
  });

  it('refuses a reference that is not a variable name', () => {
    const error = loadError(flowYaml({ destinations: [orders('headers: { Authorization: "${env:orders-token}" }')] }), env);
    expect(error.message).toContain('spec.destinations[0].headers.Authorization: expected an environment variable name in "${env:orders-token}"');
  });

  it('never shows a substituted value in a message', () => {
    const error = loadError(flowYaml({ destinations: ['{ name: orders, type: http, url: "${env:ORDERS_URL}" }'] }), { ORDERS_URL: 'ftp://user:s3cr3t@orders.example.com' });
    expect(error.message).toBe('flows/payments.yaml document 1: spec.destinations[0].url: expected an http:// or https:// URL, got "${env:ORDERS_URL}" after substitution (value not shown)');
  });
});

describe('parseFlowDocuments: documents', () => {
  it('reads every document of a stream and skips empty ones', () => {
    const flows = parseFlowDocuments(`---\n# nothing here\n---\n${flowYaml({ name: 'a' })}---\n${flowYaml({ name: 'b' })}---\n`, 'f.yaml', {});
    expect(flows.map(({ name }) => name)).toEqual(['a', 'b']);
  });

  it('counts empty documents when numbering', () => {
    // Each `---` starts a document: the first one here is empty, the bad one is the second.
    expect(loadError(`---\n---\n${flowYaml({ name: 'Bad' })}`).document).toBe(2);
  });

  it('refuses the same flow name twice', () => {
    expect(loadError(`${flowYaml()}---\n${flowYaml()}`).message).toBe('flows/payments.yaml document 2: metadata.name: flow "payments" is already defined in flows/payments.yaml document 1');
  });

  it('returns deeply frozen flows', () => {
    const flows = parseFlowDocuments(flowYaml({ destinations: [orders('headers: { X-Team: orders }, filter: { eventTypes: [a] }')] }), 'f.yaml', {});
    const destination = flows[0]!.destinations[0]!;
    if (destination.type !== 'http') throw new Error('expected the http destination');
    for (const value of [flows, flows[0], flows[0]!.source, flows[0]!.destinations, destination, destination.headers, destination.retry, destination.retry.backoff, destination.filter, destination.filter!.eventTypes, destination.deadLetter]) {
      expect(Object.isFrozen(value)).toBe(true);
    }
  });
});
