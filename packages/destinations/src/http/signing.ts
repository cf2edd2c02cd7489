import { standardWebhooksKey, standardWebhooksSignature } from '@fanout/core';
import type { SigningPolicy } from '@fanout/flows';

/** The `webhook-signature` of one attempt, from its webhook-id, webhook-timestamp and body. */
export type AttemptSigner = (webhookId: string, timestampSeconds: number, body: Buffer) => string;

/**
 * Standard Webhooks signing: one `v1,<base64 HMAC-SHA256 of "<id>.<timestamp>.<body>">` per
 * secret, space-separated, in the policy's order (newest first), so a receiver that knows
 * either secret of a rotation verifies. Keys are decoded once, here.
 */
export function standardWebhooksSigner({ secrets }: SigningPolicy): AttemptSigner {
  const keys = secrets.map(standardWebhooksKey);
  return (webhookId, timestampSeconds, body) => keys.map((key) => `v1,${standardWebhooksSignature(key, webhookId, timestampSeconds, body).toString('base64')}`).join(' ');
}
