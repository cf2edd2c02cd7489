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

/**
 * An event's ordering key under a key ordering: the string or whole number at `path` of its
 * parsed JSON body; `""` for anything else (events without a key share one line).
 */
export function orderKeyAt(document: unknown, path: readonly string[]): string {
  const value = valueAt(document, path);
  if (typeof value === 'string') return value;
  // JSON.parse rounds integers beyond 2^53: two customers could come out as one key, which orders more than asked, never less.
  if (typeof value === 'number' && Number.isInteger(value)) return String(value);
  return '';
}
