import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { Webhook } from 'standardwebhooks';
import { isStandardWebhooksSecret, standardWebhooksKey, standardWebhooksSignature } from './standard-webhooks.js';

/** The key the reference library decodes from a secret, or undefined where it refuses it. */
function referenceKey(secret: string): Buffer | undefined {
  try {
    return Buffer.from((new Webhook(secret) as unknown as { key: Uint8Array }).key);
  } catch {
    return undefined;
  }
}

describe('standardWebhooksKey', () => {
  it('decodes a whsec_ secret as the reference library does', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 64 }), (bytes) => {
        const secret = `whsec_${Buffer.from(bytes).toString('base64')}`;
        return standardWebhooksKey(secret).equals(Buffer.from(bytes)) && referenceKey(secret)!.equals(Buffer.from(bytes));
      }),
    );
  });

  it('takes no whsec_ secret the reference library refuses or reads otherwise', () => {
    const tail = fc.string({ unit: fc.constantFrom(...'ABCabc012+/=_-!* \n'.split('')), maxLength: 12 });
    fc.assert(
      fc.property(tail, (encoded) => {
        const secret = `whsec_${encoded}`;
        if (!isStandardWebhooksSecret(secret)) return true;
        return referenceKey(secret)?.equals(standardWebhooksKey(secret)) === true;
      }),
    );
  });

  it('uses any other string as its UTF-8 bytes, like the libraries\' raw format', () => {
    expect(standardWebhooksKey('my raw secret')).toEqual(Buffer.from('my raw secret'));
    expect(standardWebhooksKey('clé')).toEqual(Buffer.from('clé', 'utf8'));
  });

  it.each([[''], ['whsec_'], ['whsec_abc'], ['whsec_ab!='], ['whsec_YWJj\n']])('refuses %j', (secret) => {
    expect(isStandardWebhooksSecret(secret)).toBe(false);
    expect(() => standardWebhooksKey(secret)).toThrow('a Standard Webhooks secret is a non-empty string, and base64 after a whsec_ prefix');
  });
});

describe('standardWebhooksSignature', () => {
  it('is what the reference library signs for a UTF-8 body', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 32 }), fc.string({ minLength: 1, maxLength: 40 }), fc.integer({ min: 0, max: 4_000_000_000 }), fc.string(), (bytes, id, seconds, body) => {
        const secret = `whsec_${Buffer.from(bytes).toString('base64')}`;
        const ours = standardWebhooksSignature(standardWebhooksKey(secret), id, seconds, Buffer.from(body, 'utf8')).toString('base64');
        return new Webhook(secret).sign(id, new Date(seconds * 1_000), body) === `v1,${ours}`;
      }),
    );
  });
});
