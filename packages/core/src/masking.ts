/** What a masked value is shown as. */
export const MASK = '***';

const CREDENTIAL_NAME = /authorization|cookie|token|secret|key|signature|password|credential/i;

/**
 * Whether values under this name (a header, a query parameter, a field) are credentials:
 * `Authorization`, `X-Api-Key`, `Cookie`, `secret`, `secrets`, `secretAccessKey`…
 */
export function isCredentialName(name: string): boolean {
  return CREDENTIAL_NAME.test(name);
}

/** The URL with the password of its userinfo and credential-looking query parameters masked; anything that is not a URL is given back as it is. */
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
  }
  for (const name of new Set(url.searchParams.keys())) {
    if (!isCredentialName(name)) continue;
    url.searchParams.set(name, MASK);
    masked = true;
  }
  // Reserialising normalises a URL, so an untouched one is given back exactly as configured.
  return masked ? url.toString() : raw;
}
