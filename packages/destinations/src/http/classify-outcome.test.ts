import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { classifyOutcome } from './classify-outcome.js';
import type { SendResponse } from './send-result.js';

const NOW = Date.parse('2026-01-01T00:00:00Z');

function answered(statusCode: number, headers: Record<string, string> = {}): SendResponse {
  return { statusCode, headers, bodySnippet: '', durationMs: 12 };
}

const isRetryableStatus = (status: number): boolean => [408, 409, 425, 429].includes(status) || (status >= 500 && status <= 599);

describe('classifyOutcome', () => {
  it.each([
    [200, { kind: 'delivered' }],
    [204, { kind: 'delivered' }],
    [299, { kind: 'delivered' }],
    [408, { kind: 'retry', reason: 'HTTP 408' }],
    [409, { kind: 'retry', reason: 'HTTP 409' }],
    [425, { kind: 'retry', reason: 'HTTP 425' }],
    [429, { kind: 'retry', reason: 'HTTP 429' }],
    [500, { kind: 'retry', reason: 'HTTP 500' }],
    [503, { kind: 'retry', reason: 'HTTP 503' }],
    [599, { kind: 'retry', reason: 'HTTP 599' }],
    [400, { kind: 'dead', reason: 'HTTP 400' }],
    [401, { kind: 'dead', reason: 'HTTP 401' }],
    [404, { kind: 'dead', reason: 'HTTP 404' }],
    [410, { kind: 'dead', reason: 'HTTP 410' }],
    [422, { kind: 'dead', reason: 'HTTP 422' }],
    [301, { kind: 'dead', reason: 'HTTP 301 (redirects are not followed)' }],
    [302, { kind: 'dead', reason: 'HTTP 302 (redirects are not followed)' }],
    [307, { kind: 'dead', reason: 'HTTP 307 (redirects are not followed)' }],
  ])('answers %i → %o', (status, expected) => {
    expect(classifyOutcome(answered(status), NOW)).toEqual(expected);
  });

  it('retries timeouts, naming the timeout', () => {
    expect(classifyOutcome({ error: { code: 'ETIMEDOUT', message: 'timeout after 5000 ms' }, durationMs: 5_001 }, NOW)).toEqual({ kind: 'retry', reason: 'timeout after 5000 ms' });
  });

  it.each(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EAI_AGAIN', 'EPIPE'])('retries the connection error %s, named by its code', (code) => {
    expect(classifyOutcome({ error: { code, message: `connect ${code} 127.0.0.1:9` }, durationMs: 1 }, NOW)).toEqual({ kind: 'retry', reason: code });
  });

  describe('Retry-After', () => {
    it.each([
      ['1', 1_000],
      ['0', 0],
      [' 120 ', 120_000],
      ['1.5', 1_500],
      ['Thu, 01 Jan 2026 00:00:30 GMT', 30_000],
      ['Thursday, 01-Jan-26 00:00:30 GMT', 30_000],
      ['Thu Jan  1 00:00:30 2026', 30_000],
      ['Wed, 31 Dec 2025 23:59:00 GMT', 0],
    ])('reads %j on a 429 as %i ms', (value, retryAfterMs) => {
      expect(classifyOutcome(answered(429, { 'retry-after': value }), NOW)).toEqual({ kind: 'retry', reason: 'HTTP 429', retryAfterMs });
    });

    it('is honoured on 503 too', () => {
      expect(classifyOutcome(answered(503, { 'retry-after': '7' }), NOW)).toEqual({ kind: 'retry', reason: 'HTTP 503', retryAfterMs: 7_000 });
    });

    it.each(['', 'soon', '-1', '2026-01-01T00:00:30Z', '1e3'])('ignores the malformed value %j', (value) => {
      expect(classifyOutcome(answered(429, { 'retry-after': value }), NOW)).toEqual({ kind: 'retry', reason: 'HTTP 429' });
    });

    it.each([500, 502, 408])('is ignored on %i, where the contract does not honour it', (status) => {
      expect(classifyOutcome(answered(status, { 'retry-after': '5' }), NOW)).toEqual({ kind: 'retry', reason: `HTTP ${status}` });
    });
  });

  describe('properties', () => {
    const anyHeaders = fc.dictionary(fc.constantFrom('retry-after', 'location', 'content-type'), fc.string());

    it('delivers every 2xx whatever the headers', () => {
      fc.assert(fc.property(fc.integer({ min: 200, max: 299 }), anyHeaders, (status, headers) => classifyOutcome(answered(status, headers), NOW).kind === 'delivered'));
    });

    it('retries every retryable status, with a non-negative Retry-After delay only on 429 and 503', () => {
      const retryable = fc.oneof(fc.constantFrom(408, 409, 425, 429), fc.integer({ min: 500, max: 599 }));
      fc.assert(
        fc.property(retryable, anyHeaders, (status, headers) => {
          const outcome = classifyOutcome(answered(status, headers), NOW);
          if (outcome.kind !== 'retry') return false;
          if (outcome.retryAfterMs === undefined) return true;
          return (status === 429 || status === 503) && outcome.retryAfterMs >= 0;
        }),
      );
    });

    it('dead-letters every other 3xx and 4xx', () => {
      const refused = fc.integer({ min: 300, max: 499 }).filter((status) => !isRetryableStatus(status));
      fc.assert(fc.property(refused, anyHeaders, (status, headers) => classifyOutcome(answered(status, headers), NOW).kind === 'dead'));
    });

    it('retries every failure to get an answer', () => {
      const failure = fc.record({ code: fc.string({ minLength: 1 }), message: fc.string() });
      fc.assert(fc.property(failure, (error) => classifyOutcome({ error, durationMs: 0 }, NOW).kind === 'retry'));
    });
  });
});
