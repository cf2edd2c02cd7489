import type { Destination, Flow } from '@fanout/flows';

const MASK = '***';

/** Header, query parameter and field names whose values are credentials. */
const CREDENTIAL_NAME = /authorization|cookie|token|secret|key|signature|password/i;

/** Fields that hold a URL, which may carry a password in its userinfo or a credential in its query. */
const URL_FIELD = /url|endpoint/i;

/** Names CREDENTIAL_NAME matches that hold no secret: an AMQP routing key says where a message goes. */
const NOT_CREDENTIALS: ReadonlySet<string> = new Set(['routingKey']);

/** Schemes whose userinfo without a password is a token (`nats://<token>@host`). */
const TOKEN_USERINFO = new Set(['nats:', 'tls:']);

/** The URL with the password of its userinfo and credential-looking query parameters masked. */
export function maskUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return raw;
  }
  let masked = false;
  if (url.password) {
    url.password = MASK;
    masked = true;
  } else if (url.username && TOKEN_USERINFO.has(url.protocol)) {
    url.username = MASK;
    masked = true;
  }
  for (const name of new Set(url.searchParams.keys())) {
    if (!CREDENTIAL_NAME.test(name)) continue;
    url.searchParams.set(name, MASK);
    masked = true;
  }
  // Reserialising normalises a URL, so an untouched one is given back exactly as configured.
  return masked ? url.toString() : raw;
}

// A rule on names rather than on today's Flow fields: secrets that later fields bring in
// (signing and verify secrets, S3 keys) are masked without anyone remembering to add them here.
function maskValue(value: unknown, name: string): unknown {
  if (typeof value === 'string') {
    if (CREDENTIAL_NAME.test(name) && !NOT_CREDENTIALS.has(name)) return MASK;
    return URL_FIELD.test(name) ? maskUrl(value) : value;
  }
  if (Array.isArray(value)) return value.map((item: unknown) => maskValue(item, name));
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, maskValue(item, key)]));
  }
  return value;
}

/**
 * The flow as operators may see it: every string under a credential-looking name (header
 * values such as `Authorization`, `X-Api-Key`, `Cookie`; fields such as `secret`) becomes
 * `***`, and URLs lose their password and credential query parameters.
 */
export function maskFlow(flow: Flow): Flow {
  // Masking swaps strings for strings and keeps every key, so the shape is still a Flow.
  return maskValue(flow, '') as Flow;
}

/** Where a destination delivers, secrets masked: what an operator is shown beside each of its jobs. */
export function destinationTarget(destination: Destination): { readonly type: Destination['type']; readonly url: string } {
  if (destination.type !== 's3') return { type: destination.type, url: maskUrl(destination.url) };
  // Where its objects go: the store (AWS's when no endpoint is set), the bucket and the prefix.
  const store = destination.endpoint === undefined ? 's3:/' : maskUrl(destination.endpoint).replace(/\/$/, '');
  return { type: 's3', url: `${store}/${destination.bucket}/${destination.prefix}` };
}
