import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { canonicalPath, isUnder } from './canonical-path.js';

describe('canonicalPath', () => {
  it.each([
    ['/flows', '/flows'],
    ['/FLOWS/', '/flows'],
    ['//flows//payments', '/flows/payments'],
    ['/./flows/x/../payments', '/flows/payments'],
    ['/../../flows', '/flows'],
    ['/%66lows', '/flows'],
    ['/%2566lows', '/flows'],
    ['/flows%2F..%2Fadmin', '/admin'],
    ['/admin\\queues', '/admin/queues'],
    ['/', '/'],
  ])('reads %s as %s', (path, canonical) => {
    expect(canonicalPath(path)).toBe(canonical);
  });

  it.each([['/%ff'], ['/webhooks/%c3%28'], ['/%E0%A4%A'], ['/flows%25']])('finds no path in %s', (path) => {
    expect(canonicalPath(path)).toBeUndefined();
  });

  it('always gives a lower-case path without empty, . or .. segments, and the same path again when read twice', () => {
    const segment = fc.oneof(fc.constantFrom('', '.', '..', 'Flows', 'admin', '%2e%2e', '%2F', 'A%42c'), fc.string({ unit: fc.constantFrom(...'aZ09-_.%'.split('')), maxLength: 6 }));
    fc.assert(
      fc.property(fc.array(segment, { maxLength: 8 }), (segments) => {
        const canonical = canonicalPath(`/${segments.join('/')}`);
        if (canonical === undefined) return true;
        const parts = canonical.split('/').slice(1);
        return canonical === canonical.toLowerCase() && (canonical === '/' || parts.every((part) => part !== '' && part !== '.' && part !== '..')) && (canonical.includes('%') || canonicalPath(canonical) === canonical);
      }),
    );
  });
});

describe('isUnder', () => {
  it('is true for the prefix and what lies below it only', () => {
    expect(isUnder('/flows', '/flows')).toBe(true);
    expect(isUnder('/flows/payments', '/flows')).toBe(true);
    expect(isUnder('/flowsx', '/flows')).toBe(false);
    expect(isUnder('/', '/flows')).toBe(false);
  });
});
