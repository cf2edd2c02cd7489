import type { VerifyPolicy } from '@fanout/flows';
import { GITHUB_HEADER, hmacSha256Check } from './hmac-sha256.js';
import type { SignedRequest } from './signature-parts.js';
import { standardWebhooksCheck } from './standard-webhooks.js';
import { stripeCheck } from './stripe.js';

/** What a verified request proved beyond its signature. */
export interface VerifiedRequest {
  /** Standard Webhooks only: the signed webhook-id, which the replay defence keeps. */
  readonly webhookId?: string;
}

/** A flow's inbound check: returns when the request verifies, throws SIGNATURE_INVALID otherwise. */
export type SignatureCheck = (request: SignedRequest) => VerifiedRequest;

/** The check `policy` describes, with its secrets decoded once. */
export function signatureCheck(policy: VerifyPolicy): SignatureCheck {
  switch (policy.type) {
    case 'standard-webhooks': {
      const check = standardWebhooksCheck(policy.secrets, policy.toleranceMs);
      return (request) => ({ webhookId: check(request) });
    }
    case 'stripe':
      return withNothingMore(stripeCheck(policy.secrets, policy.toleranceMs));
    case 'github':
      return withNothingMore(hmacSha256Check(policy.secrets, GITHUB_HEADER));
    case 'hmac-sha256':
      return withNothingMore(hmacSha256Check(policy.secrets, policy));
  }
}

function withNothingMore(check: (request: SignedRequest) => void): SignatureCheck {
  return (request) => {
    check(request);
    return {};
  };
}
