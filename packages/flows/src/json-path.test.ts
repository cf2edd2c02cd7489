import { describe, expect, it } from '@jest/globals';
import { jsonPathSegments, valueAt } from './json-path.js';

describe('JSON paths', () => {
  it('splits $.a.b into property names', () => {
    expect(jsonPathSegments('$.data.id')).toEqual(['data', 'id']);
  });

  it('finds the value at a path, whatever its type', () => {
    const document = { data: { id: 'evt_1', n: 7, list: [1] } };
    expect(valueAt(document, ['data', 'id'])).toBe('evt_1');
    expect(valueAt(document, ['data', 'n'])).toBe(7);
    expect(valueAt(document, ['data', 'list'])).toEqual([1]);
  });

  it('leads nowhere through missing properties, scalars, null and prototypes', () => {
    expect(valueAt({ data: {} }, ['data', 'id'])).toBeUndefined();
    expect(valueAt({ data: 'text' }, ['data', 'length'])).toBeUndefined();
    expect(valueAt({ data: null }, ['data', 'id'])).toBeUndefined();
    expect(valueAt({}, ['constructor', 'name'])).toBeUndefined();
    expect(valueAt('not an object', ['id'])).toBeUndefined();
  });
});
