import { valueAt, type EventTypeFilter } from '@fanout/flows';

/** The destinations an event goes to, and those whose filter turned it away. */
export interface DestinationMatch<D> {
  readonly matched: D[];
  readonly filtered: D[];
}

const NOT_JSON = Symbol('not JSON');

/**
 * Applies each destination's event-type filter to the event's body. The body is parsed
 * once, and only when some destination has a filter: most flows have none, and a large
 * body should not be parsed for nothing. A body that is not JSON, or has no string at the
 * filter's path, matches only the destinations without a filter.
 */
export function matchDestinations<D extends { readonly filter?: EventTypeFilter }>(destinations: readonly D[], body: Buffer): DestinationMatch<D> {
  const document = destinations.some((destination) => destination.filter) ? parseJson(body) : NOT_JSON;
  const match: DestinationMatch<D> = { matched: [], filtered: [] };
  for (const destination of destinations) {
    const { filter } = destination;
    const accepted = !filter || acceptsEventType(filter, document === NOT_JSON ? undefined : eventTypeAt(document, filter.path));
    (accepted ? match.matched : match.filtered).push(destination);
  }
  return match;
}

/** The string at `path` (property names, `$.data.type` → ['data', 'type']) in a parsed JSON document. */
export function eventTypeAt(document: unknown, path: readonly string[]): string | undefined {
  const value = valueAt(document, path);
  return typeof value === 'string' ? value : undefined;
}

function acceptsEventType(filter: EventTypeFilter, eventType: string | undefined): boolean {
  return eventType !== undefined && filter.eventTypes.includes(eventType);
}

function parseJson(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8')) as unknown;
  } catch {
    return NOT_JSON;
  }
}
