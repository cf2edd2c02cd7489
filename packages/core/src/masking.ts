/** What a masked value is shown as. */
export const MASK = '***';

const CREDENTIAL_NAME = /authorization|cookie|token|secret|key|signature|password|credential/i;

/** Names CREDENTIAL_NAME matches that hold no secret: an AMQP routing key says where a message goes. */
const NOT_CREDENTIALS: ReadonlySet<string> = new Set(['routingKey']);

/**
 * Whether values under this name (a header, a query parameter, a field) are credentials:
 * `Authorization`, `X-Api-Key`, `Cookie`, `secret`, `secrets`, `secretAccessKey`…
 */
export function isCredentialName(name: string): boolean {
  return CREDENTIAL_NAME.test(name) && !NOT_CREDENTIALS.has(name);
}

/** Schemes whose userinfo without a password is a token (`nats://<token>@host`). */
const TOKEN_USERINFO: ReadonlySet<string> = new Set(['nats:', 'tls:']);

/**
 * The URL with the password of its userinfo (a NATS URL's token) and credential-looking query
 * parameters masked; anything that is not a URL is given back as it is.
 */
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
    if (!isCredentialName(name)) continue;
    url.searchParams.set(name, MASK);
    masked = true;
  }
  // Reserialising normalises a URL, so an untouched one is given back exactly as configured.
  return masked ? url.toString() : raw;
}
