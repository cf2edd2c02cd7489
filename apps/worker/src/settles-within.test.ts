import { describe, expect, it } from '@jest/globals';
import { settlesWithin } from './settles-within.js';

describe('settlesWithin', () => {
  it('is true for work that settles in time, rejected work included', async () => {
    expect(await settlesWithin(Promise.resolve('done'), 1_000)).toBe(true);
    expect(await settlesWithin(Promise.reject(new Error('failed')), 1_000)).toBe(true);
  });

  it('is false for work that does not settle in time', async () => {
    expect(await settlesWithin(new Promise(() => {}), 10)).toBe(false);
  });
});
