import { describe, expect, it } from '@jest/globals';
import { FlowLoadError } from './errors.js';
import type { Flow, HttpDestination } from './flow.js';
import { parseFlowDocuments } from './parse-flow-documents.js';

function document({ source = '', destination = '' }: { source?: string; destination?: string }): string {
  return [
    'apiVersion: fanout.dev/v1',
    'kind: DeliveryFlow',
    'metadata: { name: payments }',
    'spec:',
    `  source: { ${source} }`,
    '  destinations:',
    `    - { name: orders, type: http, url: "https://orders.example.com/hook"${destination ? `, ${destination}` : ''} }`,
    '',
  ].join('\n');
}

const load = (text: string, env: NodeJS.ProcessEnv = {}): Flow => parseFlowDocuments(text, 'flows/payments.yaml', env)[0]!;

function loadError(text: string, env: NodeJS.ProcessEnv = {}): FlowLoadError {
  try {
    load(text, env);
  } catch (error) {
    if (error instanceof FlowLoadError) return error;
    throw error;
  }
  throw new Error('expected a FlowLoadError');
}

/** The flow's first destination, an http one. */
function httpOf(flow: Flow): HttpDestination {
  const [destination] = flow.destinations;
  if (destination?.type !== 'http') throw new Error('expected an http destination first');
  return destination;
}

const KEY = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';

describe('signing', () => {
  it('takes one secret, or several newest first, and resolves both to the list', () => {
    expect(httpOf(load(document({ destination: `signing: { type: standard-webhooks, secret: "${KEY}" }` }))).signing).toEqual({ type: 'standard-webhooks', secrets: [KEY] });
    expect(httpOf(load(document({ destination: `signing: { type: standard-webhooks, secrets: ["${KEY}", "an old raw secret"] }` }))).signing).toEqual({
      type: 'standard-webhooks',
      secrets: [KEY, 'an old raw secret'],
    });
  });

  it.each([
    ['neither secret nor secrets', 'signing: { type: standard-webhooks }', 'spec.destinations[0].signing: give exactly one of secret or secrets'],
    ['both', `signing: { type: standard-webhooks, secret: "${KEY}", secrets: ["${KEY}"] }`, 'spec.destinations[0].signing: give exactly one of secret or secrets'],
    ['an empty list', 'signing: { type: standard-webhooks, secrets: [] }', 'spec.destinations[0].signing.secrets: at least one secret is needed'],
    ['a whsec_ secret that is not base64', 'signing: { type: standard-webhooks, secret: "whsec_not*base64" }', 'spec.destinations[0].signing.secret: a whsec_ secret must be base64 after its prefix'],
    ['an empty whsec_ secret', 'signing: { type: standard-webhooks, secrets: ["whsec_"] }', 'spec.destinations[0].signing.secrets[0]: a whsec_ secret must be base64 after its prefix'],
    ['another scheme', `signing: { type: hmac, secret: "${KEY}" }`, 'spec.destinations[0].signing.type: expected "standard-webhooks", got "hmac"'],
  ])('refuses %s', (_case, signing, message) => {
    expect(loadError(document({ destination: signing })).message).toBe(`flows/payments.yaml document 1: ${message}`);
  });

  it('never shows a secret written in the file in its error', () => {
    const error = loadError(document({ destination: 'signing: { type: standard-webhooks, secret: "whsec_hunter2!" }' }));
    expect(error.message).not.toContain('hunter2');
    const header = loadError(document({ destination: 'headers: { Authorization: "Bearer hunter2\\n" }' }));
    expect(header.message).toBe('flows/payments.yaml document 1: spec.destinations[0].headers.Authorization: expected a header value without line breaks (value not shown)');
  });
});

describe('source.verify', () => {
  it.each([
    ['standard-webhooks', `type: standard-webhooks, secret: "${KEY}"`, { type: 'standard-webhooks', secrets: [KEY], toleranceMs: 300_000 }],
    ['standard-webhooks with a tolerance and two secrets', `type: standard-webhooks, secrets: ["${KEY}", "raw"], tolerance: 1m`, { type: 'standard-webhooks', secrets: [KEY, 'raw'], toleranceMs: 60_000 }],
    ['github', 'type: github, secret: "It\'s a Secret to Everybody"', { type: 'github', secrets: ["It's a Secret to Everybody"] }],
    ['stripe', 'type: stripe, secret: whsec_test, tolerance: 10m', { type: 'stripe', secrets: ['whsec_test'], toleranceMs: 600_000 }],
    ['hmac-sha256 with its defaults', 'type: hmac-sha256, secret: s, header: X-Signature', { type: 'hmac-sha256', secrets: ['s'], header: 'X-Signature', encoding: 'hex', prefix: '' }],
    ['hmac-sha256 in full', 'type: hmac-sha256, secret: s, header: X-Shopify-Hmac-Sha256, encoding: base64, prefix: "sha256="', { type: 'hmac-sha256', secrets: ['s'], header: 'X-Shopify-Hmac-Sha256', encoding: 'base64', prefix: 'sha256=' }],
  ])('resolves %s', (_case, verify, policy) => {
    expect(load(document({ source: `verify: { ${verify} }` })).source.verify).toEqual(policy);
  });

  it.each([
    ['a tolerance on github, which signs no time', 'type: github, secret: s, tolerance: 5m', 'spec.source.verify.tolerance: unknown field'],
    ['hmac-sha256 without its header', 'type: hmac-sha256, secret: s', 'spec.source.verify.header: expected an HTTP header name, but it is missing'],
    ['an unknown encoding', 'type: hmac-sha256, secret: s, header: X-Sig, encoding: base32', 'spec.source.verify.encoding: expected one of hex, base64, got "base32"'],
    ['no secret', 'type: stripe', 'spec.source.verify: give exactly one of secret or secrets'],
    ['an unknown type', 'type: paypal, secret: s', 'spec.source.verify.type: expected one of standard-webhooks, github, stripe, hmac-sha256, got "paypal"'],
    ['a zero tolerance', 'type: stripe, secret: s, tolerance: 0s', 'spec.source.verify.tolerance: expected a duration longer than 0, got 0'],
  ])('refuses %s', (_case, verify, message) => {
    expect(loadError(document({ source: `verify: { ${verify} }` })).message).toBe(`flows/payments.yaml document 1: ${message}`);
  });
});

describe('a url with user:password@', () => {
  it('loads, to be sent as Basic auth', () => {
    expect(httpOf(load(document({}).replace('https://orders.example.com/hook', 'https://user:pa55@orders.example.com/hook'))).url).toBe('https://user:pa55@orders.example.com/hook');
  });

  it('is refused beside a configured Authorization header', () => {
    const text = document({ destination: 'headers: { authorization: "Bearer t" }' }).replace('https://orders.example.com/hook', 'https://user:pa55@orders.example.com/hook');
    expect(loadError(text).message).toBe(
      "flows/payments.yaml document 1: spec.destinations[0].headers: the url's user:password@ is sent as Authorization: Basic, and headers sets Authorization too: give one of them",
    );
  });
});

describe('envTemplates', () => {
  it('maps every substituted string to the string as written, and no empty one', () => {
    const env = { CODE: 'c0de', SIG: 's1g', TEAM: 'orders', EMPTY: '' };
    const flow = load(document({ destination: 'headers: { X-Team: "${env:TEAM}", X-Empty: "${env:EMPTY}" }' }).replace('https://orders.example.com/hook', 'https://fn.example.com/api?code=${env:CODE}&sig=${env:SIG}'), env);
    expect(flow.envTemplates).toEqual(
      new Map([
        ['https://fn.example.com/api?code=c0de&sig=s1g', 'https://fn.example.com/api?code=${env:CODE}&sig=${env:SIG}'],
        ['orders', '${env:TEAM}'],
      ]),
    );
  });

  it('is absent when nothing was substituted', () => {
    expect(load(document({})).envTemplates).toBeUndefined();
  });
});
