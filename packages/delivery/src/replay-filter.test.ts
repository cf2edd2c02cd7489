import { describe, expect, it } from '@jest/globals';
import { matchesFilter, parseReplayRate } from './replay-filter.js';

const dead = { eventId: 'a', deadLetteredAt: 1_000, error: 'HTTP 503: unavailable' };

describe('matchesFilter', () => {
  it('takes every dead letter without a filter', () => {
    expect(matchesFilter({}, dead)).toBe(true);
  });

  it('takes those every given field matches, the bounds included', () => {
    expect(matchesFilter({ ids: ['a', 'b'], from: 1_000, to: 1_000, error: '503' }, dead)).toBe(true);
    expect(matchesFilter({ ids: ['b'] }, dead)).toBe(false);
    expect(matchesFilter({ from: 1_001 }, dead)).toBe(false);
    expect(matchesFilter({ to: 999 }, dead)).toBe(false);
    expect(matchesFilter({ error: '410' }, dead)).toBe(false);
  });
});

describe('parseReplayRate', () => {
  it.each([
    ['50/s', 50],
    ['600/m', 10],
    ['1800/h', 0.5],
    ['2.5/s', 2.5],
  ])('reads %s as %d per second', (text, perSecond) => {
    expect(parseReplayRate(text)).toBe(perSecond);
  });

  it.each([
    ['50', 'expected deliveries per second, minute or hour, such as "50/s" or "600/m", got "50"'],
    ['50/d', 'expected deliveries per second, minute or hour'],
    ['0/s', 'a replay rate must be above 0, got "0/s"'],
    ['20000/s', 'a replay rate is at most 10000/s, got "20000/s"'],
  ])('refuses %s', (text, message) => {
    expect(() => parseReplayRate(text)).toThrow(message);
  });
});
