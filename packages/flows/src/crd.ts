import { stringify } from 'yaml';
import { z } from 'zod';
import { deliveryFlowSchema } from './schema.js';

type Schema = { [keyword: string]: unknown };

const isSchema = (value: unknown): value is Schema => typeof value === 'object' && value !== null && !Array.isArray(value);
const isScalarType = (type: unknown): boolean => type === 'string' || type === 'integer' || type === 'number' || type === 'boolean';

/** Keywords Kubernetes refuses in a CRD schema, or that only help editors: the loader checks them (header names, unknown fields). */
const DROPPED = new Set(['$schema', 'propertyNames', 'default']);

/** A scalar default said in words: Kubernetes would write defaults into stored resources, and the loader fills them anyway. */
function describedDefault(node: Schema): Schema {
  if (node['default'] === undefined || isSchema(node['default'])) return node;
  const sentence = `Default: ${String(node['default'])}.`;
  return { ...node, description: typeof node['description'] === 'string' ? `${node['description']} ${sentence}` : sentence };
}

/** Two union branches' schemas of one field, as one; they must agree. */
function mergeField(name: string, a: Schema | undefined, b: Schema): Schema {
  if (a === undefined || JSON.stringify(a) === JSON.stringify(b)) return b;
  if (a['type'] === b['type'] && Array.isArray(a['enum']) && Array.isArray(b['enum'])) return { ...a, enum: [...new Set([...a['enum'], ...b['enum']])] };
  // Kinds that give one scalar field constraints of their own (an http url, a broker's): the CRD keeps the type, the loader checks the rest.
  if (a['type'] === b['type'] && isScalarType(a['type'])) return { type: a['type'], ...(a['description'] === b['description'] && a['description'] !== undefined ? { description: a['description'] } : {}) };
  throw new Error(`union branches disagree on field "${name}": a CRD schema has one schema per field, so give it the same schema in every branch`);
}

/**
 * A union as Kubernetes' structural schemas allow it: a string-or-integer union (durations,
 * sizes) becomes `x-kubernetes-int-or-string` with each branch's constraints beside it (each
 * applies only to values of its type); a union of objects (destination kinds) becomes one
 * object with every branch's fields, required only where every branch requires them; an
 * object-or-false is kept as written (x-kubernetes-preserve-unknown-fields).
 */
function mergeUnion(branches: Schema[]): Schema {
  const types = new Set(branches.map((branch) => branch['type']));
  if (types.size === 2 && types.has('string') && types.has('integer')) {
    const merged: Schema = Object.assign({}, ...branches.map(({ type: _type, ...constraints }) => constraints));
    return { ...merged, 'x-kubernetes-int-or-string': true, anyOf: [{ type: 'integer' }, { type: 'string' }] };
  }
  if (types.size === 1 && types.has('object')) {
    const properties: Record<string, Schema> = {};
    for (const branch of branches) for (const [name, field] of Object.entries((branch['properties'] ?? {}) as Record<string, Schema>)) properties[name] = mergeField(name, properties[name], field);
    const required = branches.map((branch) => (branch['required'] ?? []) as string[]).reduce((common, list) => common.filter((name) => list.includes(name)));
    return { type: 'object', properties, ...(required.length > 0 ? { required } : {}) };
  }
  if (types.size === 1 && isScalarType([...types][0])) return branches.reduce((merged, branch) => mergeField('(union)', merged, branch));
  // An object or a scalar (source.idempotencyKey: false, ordering: fifo) has no structural form: Kubernetes keeps it as written, the loader checks it.
  if (types.size === 2 && types.has('object') && [...types].some(isScalarType)) return {};
  throw new Error(`a union of ${[...types].join(', ')} has no structural form`);
}

/** One node of zod's OpenAPI 3.0 output, made structural (every node typed, no junctors but int-or-string, no `additionalProperties: false`). */
export function structural(node: Schema): Schema {
  const out: Schema = {};
  for (const [keyword, value] of Object.entries(describedDefault(node))) {
    if (DROPPED.has(keyword) || (keyword === 'additionalProperties' && value === false)) continue;
    if (keyword === 'properties') out[keyword] = Object.fromEntries(Object.entries(value as Record<string, Schema>).map(([name, field]) => [name, structural(field)]));
    else if ((keyword === 'items' || keyword === 'additionalProperties') && isSchema(value)) out[keyword] = structural(value);
    else if (keyword !== 'anyOf' && keyword !== 'oneOf') out[keyword] = value;
  }
  const union = (node['anyOf'] ?? node['oneOf']) as Schema[] | undefined;
  // The branches are made structural first, so what mergeUnion returns is final.
  if (union) Object.assign(out, mergeUnion(union.map(structural)), out['description'] ? { description: out['description'] } : {});
  if (out['type'] === undefined && out['x-kubernetes-int-or-string'] === undefined) out['x-kubernetes-preserve-unknown-fields'] = true;
  return out;
}

const [group, version] = deliveryFlowSchema.shape.apiVersion.value.split('/') as [string, string];
const kind = deliveryFlowSchema.shape.kind.value;
const plural = `${kind.toLowerCase()}s`;

/** The `openAPIV3Schema` of the DeliveryFlow resource: the zod schema's input, made structural. */
export function deliveryFlowOpenApiV3Schema(): Schema {
  const spec = structural(z.toJSONSchema(deliveryFlowSchema.shape.spec, { io: 'input', target: 'openapi-3.0' }) as Schema);
  const name = z.toJSONSchema(deliveryFlowSchema.shape.metadata.shape.name, { target: 'openapi-3.0' }) as Schema;
  return {
    type: 'object',
    description: deliveryFlowSchema.meta()?.description,
    required: ['spec'],
    properties: {
      apiVersion: { type: 'string' },
      kind: { type: 'string' },
      // Kubernetes allows restrictions on metadata.name only.
      metadata: { type: 'object', properties: { name: structural(name) } },
      spec,
    },
  };
}

/** The DeliveryFlow CustomResourceDefinition (apiextensions.k8s.io/v1). */
export function deliveryFlowCrd(): Schema {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${plural}.${group}` },
    spec: {
      group,
      names: { kind, listKind: `${kind}List`, plural, singular: kind.toLowerCase() },
      scope: 'Namespaced',
      versions: [{ name: version, served: true, storage: true, schema: { openAPIV3Schema: deliveryFlowOpenApiV3Schema() } }],
    },
  };
}

/** The exact text of the committed `deploy/kubernetes/deliveryflow-crd.yaml`. */
export function deliveryFlowCrdText(): string {
  return `# Generated from packages/flows/src/schema.ts by \`npm run schema\`; a test keeps it in step. Do not edit.\n${stringify(deliveryFlowCrd(), { lineWidth: 0 })}`;
}
