import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { parseDuration, parseSize } from './units.js';

describe('parseDuration', () => {
  it.each([
    ['500ms', 500],
    ['10s', 10_000],
    ['1.5s', 1_500],
    ['5m', 300_000],
    ['1h', 3_600_000],
    ['7d', 604_800_000],
    [250, 250],
  ])('reads %p as %p ms', (input, expected) => expect(parseDuration(input)).toBe(expected));

  it.each(['10', '10 parsecs', 's', '-1s', '', '1w'])('refuses %p with the forms it accepts', (input) => {
    expect(() => parseDuration(input)).toThrow(/expected a duration such as 500ms/);
  });

  it('refuses negative and fractional millisecond numbers', () => {
    expect(() => parseDuration(-1)).toThrow(/whole number/);
    expect(() => parseDuration(1.5)).toThrow(/whole number/);
  });

  it('reads every whole number of every unit back as that many milliseconds', () => {
    const units = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 100_000 }), fc.constantFrom(...(Object.keys(units) as (keyof typeof units)[])), (n, unit) => {
        expect(parseDuration(`${n}${unit}`)).toBe(n * units[unit]);
      }),
    );
  });
});

describe('parseSize', () => {
  it.each([
    ['1mb', 1_048_576],
    ['512kb', 524_288],
    ['100b', 100],
    ['2MB', 2_097_152],
    [4096, 4096],
  ])('reads %p as %p bytes', (input, expected) => expect(parseSize(input)).toBe(expected));

  it.each(['1 megabyte', 'mb', '1tb'])('refuses %p', (input) => expect(() => parseSize(input)).toThrow(/expected a size/));
});
