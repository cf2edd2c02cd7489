import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { quoted } from './quote.js';

describe('quoted', () => {
  it.each([
    ['payments', '"payments"'],
    ['a"b\\c', '"a\\"b\\\\c"'],
    ['x\r\nSet-Cookie: a=b', '"x\\r\\nSet-Cookie: a=b"'],
    ['\u001b[31mred', '"\\u001b[31mred"'],
    ['abc\u202edef', '"abc\\u202edef"'],
    ['café', '"caf\\u00e9"'],
  ])('shows %j as %s', (value, shown) => {
    expect(quoted(value)).toBe(shown);
  });

  it('cuts a long value short', () => {
    expect(quoted('x'.repeat(1_000))).toBe(`"${'x'.repeat(64)}..."`);
  });

  it('is always one line of printable ASCII, whatever it is given', () => {
    fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 200 }), (value) => /^"[\x20-\x7e]*"$/.test(quoted(value)) && quoted(value).length <= 64 * 6 + 5));
  });
});
