import { readFile } from 'node:fs/promises';
import { describe, expect, it } from '@jest/globals';
import { Ajv } from 'ajv';
import { parse, parseAllDocuments } from 'yaml';
import { deliveryFlowCrd, deliveryFlowCrdText, deliveryFlowOpenApiV3Schema, structural } from './crd.js';

const root = new URL('../../../', import.meta.url);
const COMMITTED = new URL('deploy/kubernetes/deliveryflow-crd.yaml', root);

/** Every DeliveryFlow resource the repository ships. */
const EXAMPLES = ['flows/payments.yaml', 'deploy/flows/payments.yaml', 'deploy/kubernetes/flows/payments.yaml'];

type Node = Record<string, unknown>;

/** Every schema node under `node`, with its path. */
function* nodes(node: Node, path = 'openAPIV3Schema'): Generator<[string, Node]> {
  yield [path, node];
  for (const [name, child] of Object.entries((node['properties'] ?? {}) as Record<string, Node>)) yield* nodes(child, `${path}.${name}`);
  if (typeof node['items'] === 'object') yield* nodes(node['items'] as Node, `${path}[]`);
  if (typeof node['additionalProperties'] === 'object') yield* nodes(node['additionalProperties'] as Node, `${path}{}`);
}

/** What Kubernetes checks the CRD against (what a resource must be is checked below, by ajv). */
function validator() {
  const ajv = new Ajv({ allErrors: true, strictTypes: false });
  ajv.addKeyword('x-kubernetes-int-or-string');
  ajv.addKeyword('x-kubernetes-preserve-unknown-fields');
  ajv.addFormat('uri', (value: string) => URL.canParse(value));
  return ajv.compile(deliveryFlowOpenApiV3Schema());
}

const resource = (yaml: string): unknown => parse(yaml);
const valid = `apiVersion: fanout.dev/v1
kind: DeliveryFlow
metadata: { name: payments, namespace: shop }
spec:
  defaults: { timeout: 10s, retry: { attempts: 3 } }
  destinations:
    - { name: orders, type: http, url: "https://orders.example.com/hook", timeout: 5000, rateLimit: { max: 10, per: 1s } }
`;

describe('the DeliveryFlow CRD', () => {
  it('matches the committed deploy/kubernetes/deliveryflow-crd.yaml (run `npm run schema` after changing the zod schema)', async () => {
    expect(await readFile(COMMITTED, 'utf8')).toBe(deliveryFlowCrdText());
  });

  it('is an apiextensions.k8s.io/v1 CRD of fanout.dev/v1 DeliveryFlow', () => {
    expect(deliveryFlowCrd()).toMatchObject({
      apiVersion: 'apiextensions.k8s.io/v1',
      metadata: { name: 'deliveryflows.fanout.dev' },
      spec: { group: 'fanout.dev', names: { kind: 'DeliveryFlow', plural: 'deliveryflows' }, versions: [{ name: 'v1', served: true, storage: true }] },
    });
  });

  it('has a structural schema: every node typed, no junctors but int-or-string, nothing Kubernetes refuses', () => {
    const problems: string[] = [];
    for (const [path, node] of nodes(deliveryFlowOpenApiV3Schema())) {
      if (node['type'] === undefined && node['x-kubernetes-int-or-string'] !== true && node['x-kubernetes-preserve-unknown-fields'] !== true) problems.push(`${path}: no type`);
      for (const keyword of ['$ref', '$schema', '$defs', 'definitions', 'const', 'propertyNames', 'patternProperties', 'oneOf', 'allOf', 'not', 'default', 'uniqueItems']) {
        if (keyword in node) problems.push(`${path}: ${keyword}`);
      }
      if (node['additionalProperties'] === false) problems.push(`${path}: additionalProperties: false`);
      if ('properties' in node && 'additionalProperties' in node) problems.push(`${path}: properties beside additionalProperties`);
      if ('anyOf' in node && JSON.stringify(node['anyOf']) !== JSON.stringify([{ type: 'integer' }, { type: 'string' }])) problems.push(`${path}: anyOf other than int-or-string`);
      if ('anyOf' in node && node['x-kubernetes-int-or-string'] !== true) problems.push(`${path}: anyOf without x-kubernetes-int-or-string`);
    }
    expect(problems).toEqual([]);
    // Kubernetes allows restrictions on metadata.name only.
    expect(Object.keys((deliveryFlowOpenApiV3Schema()['properties'] as Record<string, Node>)['metadata']!['properties'] as Node)).toEqual(['name']);
  });

  it.each(EXAMPLES)('accepts the example resource %s', async (file) => {
    const validate = validator();
    for (const document of parseAllDocuments(await readFile(new URL(file, root), 'utf8'))) {
      expect(validate(document.toJS())).toBe(true);
      expect(validate.errors ?? []).toEqual([]);
    }
  });

  it('accepts durations and sizes as strings or whole numbers', () => {
    expect(validator()(resource(valid))).toBe(true);
  });

  it.each([
    ['an unknown destination type', valid.replace('type: http', 'type: ftp'), '/spec/destinations/0/type'],
    ['a duration in parsecs', valid.replace('timeout: 10s', 'timeout: 10 parsecs'), '/spec/defaults/timeout'],
    ['zero attempts', valid.replace('attempts: 3', 'attempts: 0'), '/spec/defaults/retry/attempts'],
    ['a name with capitals', valid.replace('name: payments', 'name: Payments'), '/metadata/name'],
    ['no destinations', valid.replace(/ {2}destinations:[\s\S]*$/, '  destinations: []\n'), '/spec/destinations'],
    ['a rate limit without its window', valid.replace(', per: 1s', ''), '/spec/destinations/0/rateLimit'],
    ['no spec', 'apiVersion: fanout.dev/v1\nkind: DeliveryFlow\nmetadata: { name: payments }\n', ''],
  ])('refuses %s', (_case, yaml, at) => {
    const validate = validator();
    expect(validate(resource(yaml))).toBe(false);
    expect(validate.errors?.map((error) => error.instancePath)).toContain(at);
  });
});

describe('structural', () => {
  it('refuses union branches that give one field two schemas, rather than pick one', () => {
    const branch = (type: string) => ({ type: 'object', properties: { kind: { type: 'string', enum: [type] }, port: { type } } });
    expect(() => structural({ oneOf: [branch('string'), branch('integer')] })).toThrow('union branches disagree on field "port"');
  });

  it('keeps what every branch requires, and only that', () => {
    const merged = structural({
      oneOf: [
        { type: 'object', properties: { name: { type: 'string' }, url: { type: 'string' } }, required: ['name', 'url'] },
        { type: 'object', properties: { name: { type: 'string' }, bucket: { type: 'string' } }, required: ['name', 'bucket'] },
      ],
    });
    expect(merged).toEqual({ type: 'object', properties: { name: { type: 'string' }, url: { type: 'string' }, bucket: { type: 'string' } }, required: ['name'] });
  });
});
