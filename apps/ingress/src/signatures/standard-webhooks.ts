import { standardWebhooksKey, standardWebhooksSignature } from '@fanout/core';
import { anySignatureMatches, decodeBase64, requiredHeader, signatureInvalid, timestampWithin, type SignedRequest } from './signature-parts.js';

/**
 * The `v1` signatures of a `webhook-signature` header (space-separated `<version>,<base64>`
 * entries), decoded; entries of other versions and malformed ones are left out.
 */
export function parseStandardWebhooksSignatures(value: string): Buffer[] {
  return value.split(' ').flatMap((entry) => {
    const comma = entry.indexOf(',');
    if (comma === -1 || entry.slice(0, comma) !== 'v1') return [];
    const signature = decodeBase64(entry.slice(comma + 1));
    return signature ? [signature] : [];
  });
}

/**
 * Standard Webhooks: `webhook-signature` holds a `v1,<base64 HMAC-SHA256 of
 * "<webhook-id>.<webhook-timestamp>.<body>">` for some secret, and `webhook-timestamp` is
 * within the tolerance. Answers the verified webhook-id: the replay defence keeps it.
 */
export function standardWebhooksCheck(secrets: readonly string[], toleranceMs: number): (request: SignedRequest) => string {
  const keys = secrets.map(standardWebhooksKey);
  return (request) => {
    const webhookId = requiredHeader(request, 'webhook-id');
    const timestamp = timestampWithin(requiredHeader(request, 'webhook-timestamp'), 'webhook-timestamp', toleranceMs, request.now);
    const presented = parseStandardWebhooksSignatures(requiredHeader(request, 'webhook-signature'));
    if (presented.length === 0) throw signatureInvalid('webhook-signature holds no v1,<base64> signature');
    const expected = keys.map((key) => standardWebhooksSignature(key, webhookId, timestamp, request.body));
    if (!anySignatureMatches(expected, presented)) throw signatureInvalid('no signature in webhook-signature matched');
    return webhookId;
  };
}
