import { isCredentialName, MASK, maskUrl } from '@fanout/core';
import type { Destination, Flow } from '@fanout/flows';

/** Fields that hold a URL, which may carry a password in its userinfo or a credential in its query. */
const URL_FIELD = /url|endpoint/i;

type EnvTemplates = Flow['envTemplates'];

/**
 * One string of a flow as operators may see it. Under a credential-looking name (header
 * values such as `Authorization`, `X-Api-Key`, `Cookie`; fields such as `secret`) it is
 * `***`. One that came from `${env:…}` is shown as written (`https://hooks.example.com/${env:HOOK_PATH}`),
 * whatever its name: the loader knows what it substituted. URLs then lose their password and
 * credential query parameters.
 */
function maskString(value: string, name: string, envTemplates: EnvTemplates): string {
  if (isCredentialName(name)) return MASK;
  const shown = envTemplates?.get(value) ?? value;
  return URL_FIELD.test(name) ? maskUrl(shown) : shown;
}

// A rule on names rather than on today's Flow fields: secrets that later fields bring in
// (S3 keys, broker URLs) are masked without anyone remembering to add them here.
function maskValue(value: unknown, name: string, envTemplates: EnvTemplates): unknown {
  if (typeof value === 'string') return maskString(value, name, envTemplates);
  if (Array.isArray(value)) return value.map((item: unknown) => maskValue(item, name, envTemplates));
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, maskValue(item, key, envTemplates)]));
  }
  return value;
}

/** The flow as operators may see it (GET /flows): every string masked as `maskString` says, the substitutions themselves left out. */
export function maskFlow({ envTemplates, ...flow }: Flow): Flow {
  // Masking swaps strings for strings and keeps every other key, so the shape is still a Flow.
  return maskValue(flow, '', envTemplates) as Flow;
}

/** Where a destination delivers, masked as in GET /flows. */
export interface DestinationTarget {
  readonly type: Destination['type'];
  readonly url: string;
}

/** What an operator is shown beside each of a destination's jobs. */
export function destinationTarget(destination: Destination, envTemplates: EnvTemplates): DestinationTarget {
  if (destination.type !== 's3') return { type: destination.type, url: maskString(destination.url, 'url', envTemplates) };
  // Where its objects go: the store (AWS's when no endpoint is set), the bucket and the prefix.
  const store = destination.endpoint === undefined ? 's3:/' : maskString(destination.endpoint, 'endpoint', envTemplates).replace(/\/$/, '');
  return { type: 's3', url: `${store}/${destination.bucket}/${destination.prefix}` };
}
