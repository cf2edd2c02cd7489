import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { GITHUB_HEADER, parseHmacSignature } from './hmac-sha256.js';
import { timestampWithin } from './signature-parts.js';
import { parseStandardWebhooksSignatures } from './standard-webhooks.js';
import { parseStripeSignature } from './stripe.js';

const digest = fc.uint8Array({ minLength: 32, maxLength: 32 }).map((bytes) => Buffer.from(bytes));
const anyText = fc.string({ unit: 'binary', maxLength: 300 });

describe('parseStandardWebhooksSignatures', () => {
  it('reads back every v1 signature of a header built from them, in order, whatever other versions sit between', () => {
    const noise = fc.constantFrom('v1a,abc', 'v2,AAAA', 'v1,', 'v1', 'v1,not*base64', ',', '');
    const entry = fc.oneof(digest.map((d) => ({ d })), noise.map((n) => ({ n })));
    fc.assert(
      fc.property(fc.array(entry, { maxLength: 8 }), (entries) => {
        const header = entries.map((item) => ('d' in item ? `v1,${item.d.toString('base64')}` : item.n)).join(' ');
        const expected = entries.flatMap((item) => ('d' in item ? [item.d] : []));
        const parsed = parseStandardWebhooksSignatures(header);
        return parsed.length === expected.length && parsed.every((signature, i) => signature.equals(expected[i]!));
      }),
    );
  });

  it('never throws, whatever the header holds', () => {
    fc.assert(fc.property(anyText, (header) => Array.isArray(parseStandardWebhooksSignatures(header))));
  });
});

describe('parseStripeSignature', () => {
  it('reads back t and every v1 of a header built from them, with v0 and unknown schemes between', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 9_999_999_999 }), fc.array(digest, { maxLength: 4 }), fc.boolean(), (t, v1s, withNoise) => {
        const parts = [`t=${t}`, ...v1s.map((d) => `v1=${d.toString('hex')}`), ...(withNoise ? ['v0=00ff', 'x=1', 'garbage'] : [])];
        const parsed = parseStripeSignature(parts.join(','));
        return parsed.timestamp === String(t) && parsed.signatures.length === v1s.length && parsed.signatures.every((s, i) => s.equals(v1s[i]!));
      }),
    );
  });

  it('never throws, whatever the header holds', () => {
    fc.assert(fc.property(anyText, (header) => Array.isArray(parseStripeSignature(header).signatures)));
  });

  it('drops a v1 that is not hex', () => {
    expect(parseStripeSignature('t=1,v1=zz,v1=0g').signatures).toEqual([]);
  });
});

describe('parseHmacSignature', () => {
  it('reads back a signature written in either encoding, after its prefix', () => {
    const format = fc.record({ header: fc.constant('X-Signature'), encoding: fc.constantFrom('hex' as const, 'base64' as const), prefix: fc.constantFrom('', 'sha256=', 'v0=') });
    fc.assert(
      fc.property(digest, format, (signature, spec) => {
        const written = `${spec.prefix}${signature.toString(spec.encoding)}`;
        return parseHmacSignature(written, spec)?.equals(signature) === true;
      }),
    );
  });

  it('reads base64 in the URL-safe alphabet and without padding too', () => {
    const signature = Buffer.from('fb'.repeat(32), 'hex');
    const format = { header: 'X-Signature', encoding: 'base64' as const, prefix: '' };
    expect(parseHmacSignature(signature.toString('base64url'), format)?.equals(signature)).toBe(true);
  });

  it.each([['sha1=abcd'], ['SHA256=' + 'ab'.repeat(32)], ['sha256=' + 'xy'.repeat(32)], ['sha256=abc'], ['']])('finds no GitHub signature in %j', (value) => {
    expect(parseHmacSignature(value, GITHUB_HEADER)).toBeUndefined();
  });

  it('never throws, whatever the header holds', () => {
    fc.assert(fc.property(anyText, (value) => parseHmacSignature(value, GITHUB_HEADER) === undefined || parseHmacSignature(value, GITHUB_HEADER) instanceof Buffer));
  });
});

describe('timestampWithin', () => {
  it('takes a timestamp exactly when it is at most the tolerance away from now, either way', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1_000_000_000, max: 2_000_000_000 }), fc.integer({ min: -1_000, max: 1_000 }), fc.integer({ min: 1, max: 600 }), (nowSeconds, offset, toleranceSeconds) => {
        const nowMs = nowSeconds * 1_000 + 999;
        let taken: boolean;
        try {
          taken = timestampWithin(String(nowSeconds + offset), 'webhook-timestamp', toleranceSeconds * 1_000, nowMs) === nowSeconds + offset;
        } catch {
          taken = false;
        }
        return taken === Math.abs(offset) <= toleranceSeconds;
      }),
    );
  });

  it.each([['-5'], ['1.5'], ['1e9'], [' 1'], ['9999999999999'], ['']])('refuses %j as no unix time', (value) => {
    expect(() => timestampWithin(value, 'webhook-timestamp', 300_000, Date.now())).toThrow('webhook-timestamp is not a unix time in seconds');
  });
});
