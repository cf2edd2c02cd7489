import { describe, expect, it } from '@jest/globals';
import { presentedToken, tokenMatches } from './token-auth.js';

const basic = (userAndPassword: string): string => `Basic ${Buffer.from(userAndPassword).toString('base64')}`;

describe('presentedToken', () => {
  it.each([
    ['Bearer abc', 'abc'],
    ['bearer abc', 'abc'],
    ['  Bearer   abc  ', 'abc'],
    [basic('admin:abc'), 'abc'],
    [basic(':abc'), 'abc'],
    [basic('admin:a:b:c'), 'a:b:c'],
    [basic('admin:'), ''],
  ])('reads %j as %j', (header, token) => {
    expect(presentedToken(header)).toBe(token);
  });

  it.each([[undefined], [''], ['Bearer'], ['Bearer a b'], ['Token abc'], [basic('no-colon')], ['abc']])('finds no token in %j', (header) => {
    expect(presentedToken(header)).toBeUndefined();
  });
});

describe('tokenMatches', () => {
  it('matches the same token only', () => {
    expect(tokenMatches('s3cret', 's3cret')).toBe(true);
    expect(tokenMatches('s3cre', 's3cret')).toBe(false);
    expect(tokenMatches('s3cretx', 's3cret')).toBe(false);
    expect(tokenMatches('', 's3cret')).toBe(false);
    expect(tokenMatches('S3CRET', 's3cret')).toBe(false);
  });
});
