/** The property names of a `$.a.b` path, as the schema admits it: `$.data.id` → ['data', 'id']. */
export function jsonPathSegments(jsonPath: string): string[] {
  return jsonPath.split('.').slice(1);
}

/** The value at `path` (property names) in a parsed JSON document; undefined where the path leads nowhere. */
export function valueAt(document: unknown, path: readonly string[]): unknown {
  let value = document;
  for (const key of path) {
    // Own properties only: a path such as `constructor` must not reach into prototypes.
    if (typeof value !== 'object' || value === null || !Object.hasOwn(value, key)) return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}
