import { createHmac, timingSafeEqual } from 'node:crypto';
import { FanoutError } from '@fanout/core';

/** What a check reads of a request: its headers (any case) and its body as received. */
export interface SignedRequest {
  header(name: string): string | undefined;
  /** The body's bytes as they came off the wire, before any Content-Encoding is decoded. */
  readonly body: Buffer;
  /** Unix ms. */
  readonly now: number;
}

/** A request whose signature did not verify. The message says what was wrong, never which secret. */
export function signatureInvalid(what: string): FanoutError {
  return new FanoutError('SIGNATURE_INVALID', what);
}

/** The header's value, or SIGNATURE_INVALID naming it when it is absent or empty. */
export function requiredHeader(request: SignedRequest, name: string): string {
  const value = request.header(name)?.trim();
  if (!value) throw signatureInvalid(`the ${name} header is missing`);
  return value;
}

const HEX = /^(?:[0-9a-fA-F]{2})+$/;
// Either alphabet, padded or not: senders of "base64" HMACs differ, and every form decodes to the same bytes.
const BASE64 = /^[A-Za-z0-9+/_-]+={0,2}$/;

/** Hex digits (either case) as bytes; undefined for anything else. */
export function decodeHex(text: string): Buffer | undefined {
  return HEX.test(text) ? Buffer.from(text, 'hex') : undefined;
}

/** Base64 (standard or URL-safe, padded or not) as bytes; undefined for anything else. */
export function decodeBase64(text: string): Buffer | undefined {
  return BASE64.test(text) && text.replace(/=+$/, '').length % 4 !== 1 ? Buffer.from(text, 'base64') : undefined;
}

/** HMAC-SHA256 of `parts` in order, keyed by `key`. */
export function hmacSha256(key: Buffer | string, ...parts: readonly (string | Buffer)[]): Buffer {
  const hmac = createHmac('sha256', key);
  for (const part of parts) hmac.update(part);
  return hmac.digest();
}

/**
 * Whether any presented signature equals any expected one. Every pair is compared, each in
 * constant time, so how long it takes says neither how much of a signature was right nor
 * which secret matched.
 */
export function anySignatureMatches(expected: readonly Buffer[], presented: readonly Buffer[]): boolean {
  let matched = false;
  for (const digest of expected) {
    for (const candidate of presented) {
      if (candidate.length === digest.length && timingSafeEqual(candidate, digest)) matched = true;
    }
  }
  return matched;
}

const UNIX_SECONDS = /^\d{1,12}$/;

/** The signed timestamp (unix seconds) of `header`, refused when it is malformed or further than `toleranceMs` from now either way. */
export function timestampWithin(value: string, header: string, toleranceMs: number, nowMs: number): number {
  if (!UNIX_SECONDS.test(value)) throw signatureInvalid(`${header} is not a unix time in seconds`);
  const seconds = Number(value);
  const ageSeconds = Math.floor(nowMs / 1_000) - seconds;
  const toleranceSeconds = Math.floor(toleranceMs / 1_000);
  if (ageSeconds > toleranceSeconds) throw signatureInvalid(`${header} is ${ageSeconds} s old, beyond the ${toleranceSeconds} s tolerance`);
  if (-ageSeconds > toleranceSeconds) throw signatureInvalid(`${header} is ${-ageSeconds} s in the future, beyond the ${toleranceSeconds} s tolerance`);
  return seconds;
}
