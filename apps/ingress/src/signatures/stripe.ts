import { anySignatureMatches, decodeHex, hmacSha256, requiredHeader, signatureInvalid, timestampWithin, type SignedRequest } from './signature-parts.js';

const HEADER = 'Stripe-Signature';

/** A `Stripe-Signature` header: its `t=` (the last one given) and every well-formed `v1=` signature, decoded. */
export interface StripeSignature {
  readonly timestamp: string | undefined;
  readonly signatures: Buffer[];
}

/** Reads `t=<unix>,v1=<hex>,v1=<hex>,v0=…`; other schemes and malformed signatures are left out. */
export function parseStripeSignature(value: string): StripeSignature {
  let timestamp: string | undefined;
  const signatures: Buffer[] = [];
  for (const item of value.split(',')) {
    const equals = item.indexOf('=');
    if (equals === -1) continue;
    const key = item.slice(0, equals).trim();
    const text = item.slice(equals + 1).trim();
    if (key === 't') timestamp = text;
    if (key !== 'v1') continue;
    const signature = decodeHex(text);
    if (signature) signatures.push(signature);
  }
  return { timestamp, signatures };
}

/**
 * Stripe: `Stripe-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">` (one
 * v1 per secret while Stripe rolls one), `t` within the tolerance. The secret (`whsec_…`)
 * is used as written, as Stripe's libraries do.
 */
export function stripeCheck(secrets: readonly string[], toleranceMs: number): (request: SignedRequest) => void {
  return (request) => {
    const { timestamp, signatures } = parseStripeSignature(requiredHeader(request, HEADER));
    if (timestamp === undefined) throw signatureInvalid(`${HEADER} has no t=<unix seconds>`);
    timestampWithin(timestamp, `${HEADER} t=`, toleranceMs, request.now);
    if (signatures.length === 0) throw signatureInvalid(`${HEADER} has no v1=<hex> signature`);
    const expected = secrets.map((secret) => hmacSha256(secret, `${timestamp}.`, request.body));
    if (!anySignatureMatches(expected, signatures)) throw signatureInvalid(`no v1 signature in ${HEADER} matched`);
  };
}
