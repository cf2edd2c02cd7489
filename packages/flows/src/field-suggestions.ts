import { closest, distance } from 'fastest-levenshtein';
import { deliveryFlowJsonSchema } from './json-schema.js';

interface SchemaNode {
  readonly properties?: Readonly<Record<string, SchemaNode>>;
  readonly items?: SchemaNode;
  readonly oneOf?: readonly SchemaNode[];
  readonly anyOf?: readonly SchemaNode[];
  readonly const?: unknown;
}

let documentSchema: SchemaNode | undefined;

/** The branches a node stands for: itself, or each alternative of a union. */
function alternatives(node: SchemaNode): SchemaNode[] {
  const branches = node.oneOf ?? node.anyOf;
  return branches ? branches.flatMap(alternatives) : [node];
}

/** A union branch fits an object when every `const` property it has (a destination's `type`) is what the object says. */
function fits(branch: SchemaNode, input: unknown): boolean {
  const given = typeof input === 'object' && input !== null ? (input as Record<string, unknown>) : {};
  return Object.entries(branch.properties ?? {}).every(([name, property]) => property.const === undefined || given[name] === undefined || given[name] === property.const);
}

/** The field names the DeliveryFlow schema allows in the object at `path`, read off its JSON Schema. */
function knownFields(path: readonly PropertyKey[], input: unknown): string[] {
  documentSchema ??= deliveryFlowJsonSchema() as SchemaNode;
  let nodes = [documentSchema];
  for (const segment of path) {
    nodes = nodes.flatMap(alternatives).flatMap((node) => {
      const next = typeof segment === 'number' ? node.items : node.properties?.[String(segment)];
      return next ? [next] : [];
    });
  }
  const objects = nodes.flatMap(alternatives);
  const fitting = objects.filter((node) => fits(node, input));
  return [...new Set((fitting.length > 0 ? fitting : objects).flatMap((node) => Object.keys(node.properties ?? {})))];
}

const sharedPrefix = (a: string, b: string): number => {
  let length = 0;
  while (length < a.length && a[length] === b[length]) length += 1;
  return length;
};

/**
 * The known field an unknown one was most likely meant to be (`timout` → `timeout`,
 * `ratelimit` → `rateLimit`, `retries` → `retry`), or undefined when none is close: ignoring
 * case, at most a third of its letters differ, or it starts with the same four.
 */
export function suggestField(path: readonly PropertyKey[], unknown: string, input: unknown): string | undefined {
  const known = knownFields(path, input);
  if (known.length === 0) return undefined;
  const byLowerCase = new Map(known.map((name) => [name.toLowerCase(), name]));
  const nearest = closest(unknown.toLowerCase(), [...byLowerCase.keys()]);
  const lower = unknown.toLowerCase();
  const close = distance(lower, nearest) <= Math.max(1, Math.floor(unknown.length / 3)) || sharedPrefix(lower, nearest) >= 4;
  return close ? byLowerCase.get(nearest) : undefined;
}
