import { createHmac } from 'node:crypto';

/** The prefix of a Standard Webhooks secret whose key follows in base64. */
export const STANDARD_WEBHOOKS_SECRET_PREFIX = 'whsec_';

// Canonical base64 only (padded, no whitespace): what the reference libraries decode alike.
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * Whether the string is a Standard Webhooks secret fanout takes: `whsec_` followed by
 * canonical base64 of at least one byte, or any other non-empty string.
 */
export function isStandardWebhooksSecret(secret: string): boolean {
  if (!secret.startsWith(STANDARD_WEBHOOKS_SECRET_PREFIX)) return secret !== '';
  const encoded = secret.slice(STANDARD_WEBHOOKS_SECRET_PREFIX.length);
  return encoded !== '' && BASE64.test(encoded);
}

/**
 * The HMAC key of a Standard Webhooks secret: `whsec_<base64>` is the base64-decoded bytes
 * (the specification's form, and what its libraries decode); any other string is used as
 * its UTF-8 bytes (the libraries' `{ format: 'raw' }`). Throws on what
 * `isStandardWebhooksSecret` refuses.
 */
export function standardWebhooksKey(secret: string): Buffer {
  if (!isStandardWebhooksSecret(secret)) throw new Error(`a Standard Webhooks secret is a non-empty string, and base64 after a ${STANDARD_WEBHOOKS_SECRET_PREFIX} prefix`);
  return secret.startsWith(STANDARD_WEBHOOKS_SECRET_PREFIX) ? Buffer.from(secret.slice(STANDARD_WEBHOOKS_SECRET_PREFIX.length), 'base64') : Buffer.from(secret, 'utf8');
}

/**
 * The HMAC-SHA256 of `<webhook-id>.<webhook-timestamp>.<body>` (the body's bytes as they
 * are), the signed content of the Standard Webhooks specification; its base64 is what
 * follows `v1,` in `webhook-signature`.
 */
export function standardWebhooksSignature(key: Buffer, webhookId: string, timestampSeconds: number, body: Buffer): Buffer {
  return createHmac('sha256', key).update(`${webhookId}.${timestampSeconds}.`).update(body).digest();
}
