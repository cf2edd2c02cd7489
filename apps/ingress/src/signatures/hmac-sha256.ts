import { anySignatureMatches, decodeBase64, decodeHex, hmacSha256, requiredHeader, signatureInvalid, type SignedRequest } from './signature-parts.js';

/** Where a plain HMAC-SHA256 of the body is sent, and how it is written. */
export interface HmacHeader {
  /** The header's name (any case). */
  readonly header: string;
  readonly encoding: 'hex' | 'base64';
  /** What comes before the signature, e.g. `sha256=`; '' for none. */
  readonly prefix: string;
}

/** GitHub's form: `X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the body>`. */
export const GITHUB_HEADER: HmacHeader = { header: 'X-Hub-Signature-256', encoding: 'hex', prefix: 'sha256=' };

/** The signature in a header value written as `format` says, decoded; undefined when it is not written so. */
export function parseHmacSignature(value: string, { prefix, encoding }: HmacHeader): Buffer | undefined {
  if (!value.startsWith(prefix)) return undefined;
  const text = value.slice(prefix.length);
  return encoding === 'hex' ? decodeHex(text) : decodeBase64(text);
}

/** The HMAC-SHA256 of the body, keyed by a secret's UTF-8 bytes, in the header `format` names. */
export function hmacSha256Check(secrets: readonly string[], format: HmacHeader): (request: SignedRequest) => void {
  const { header, encoding, prefix } = format;
  return (request) => {
    const presented = parseHmacSignature(requiredHeader(request, header), format);
    if (!presented) throw signatureInvalid(`${header} is not ${prefix}<${encoding} HMAC-SHA256>`);
    const expected = secrets.map((secret) => hmacSha256(secret, request.body));
    if (!anySignatureMatches(expected, [presented])) throw signatureInvalid(`the signature in ${header} did not match`);
  };
}
