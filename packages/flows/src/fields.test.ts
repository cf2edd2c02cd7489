import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { duration, positiveSize, resourceName, simpleJsonPath } from './fields.js';

const UNIT_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

describe('field schemas (properties)', () => {
  it('reads any whole `<n><unit>` duration as n times the unit, and whole numbers as milliseconds', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1_000_000 }), fc.constantFrom(...(Object.keys(UNIT_MS) as Array<keyof typeof UNIT_MS>)), (n, unit) => {
        expect(duration.parse(`${n}${unit}`)).toBe(n * UNIT_MS[unit]);
        expect(duration.parse(n * UNIT_MS[unit])).toBe(n * UNIT_MS[unit]);
      }),
    );
  });

  it('reads `<n>kb` and `<n>mb` as binary multiples', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 4_096 }), (n) => {
        expect(positiveSize.parse(`${n}kb`)).toBe(n * 1_024);
        expect(positiveSize.parse(`${n}mb`)).toBe(n * 1_048_576);
      }),
    );
  });

  it('refuses any string that is not a number followed by a unit', () => {
    fc.assert(
      fc.property(
        fc.string().filter((text) => !/^\d+(\.\d+)?(ms|s|m|h|d)$/.test(text)),
        (text) => !duration.safeParse(text).success,
      ),
    );
  });

  it('accepts exactly the names that can be webhook URLs and queue names', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[a-z0-9][a-z0-9-]{0,62}$/), (name) => resourceName.safeParse(name).success),
    );
    fc.assert(
      fc.property(
        fc.string({ maxLength: 70 }).filter((name) => !/^[a-z0-9][a-z0-9-]{0,62}$/.test(name)),
        (name) => !resourceName.safeParse(name).success,
      ),
    );
  });

  it('accepts dotted JSON paths of plain property names', () => {
    fc.assert(
      fc.property(fc.array(fc.stringMatching(/^[A-Za-z0-9_-]+$/), { minLength: 1, maxLength: 5 }), (names) => simpleJsonPath.safeParse(`$.${names.join('.')}`).success),
    );
  });
});
