import { orderKeyAt, valueAt, type EventTypeFilter, type Ordering } from '@fanout/flows';

/** The destinations an event goes to, and those whose filter turned it away. */
export interface DestinationMatch<D> {
  readonly matched: D[];
  readonly filtered: D[];
  /** The ordering key of each matched destination ordered by a key: the string or whole number at its path, else `""`. */
  readonly orderKeys: Map<D, string>;
}

const NOT_JSON = Symbol('not JSON');

/**
 * Applies each destination's event-type filter to the event's body. The body is parsed
 * once, and only when some destination has a filter: most flows have none, and a large
 * body should not be parsed for nothing. A body that is not JSON, or has no string at the
 * filter's path, matches only the destinations without a filter.
 */
export function matchDestinations<D extends { readonly filter?: EventTypeFilter; readonly ordering: Ordering }>(destinations: readonly D[], body: Buffer): DestinationMatch<D> {
  const document = destinations.some((destination) => destination.filter || typeof destination.ordering === 'object') ? parseJson(body) : NOT_JSON;
  const match: DestinationMatch<D> = { matched: [], filtered: [], orderKeys: new Map() };
  for (const destination of destinations) {
    const { filter, ordering } = destination;
    const accepted = !filter || acceptsEventType(filter, document === NOT_JSON ? undefined : eventTypeAt(document, filter.path));
    (accepted ? match.matched : match.filtered).push(destination);
    if (accepted && typeof ordering === 'object') match.orderKeys.set(destination, document === NOT_JSON ? '' : orderKeyAt(document, ordering.key));
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
