import { createHash } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import { createKeys, IDEMPOTENCY_KEY_MAX_BYTES } from './keys.js';

describe('idempotency keys', () => {
  const keys = createKeys('fanout');

  it('live in the {events} slot, scoped by flow', () => {
    expect(keys.idempotency('payments', 'evt_1')).toBe('fanout:{events}:idempotency:payments:=evt_1');
    expect(keys.idempotency('refunds', 'evt_1')).not.toBe(keys.idempotency('payments', 'evt_1'));
  });

  it('keep a key up to the limit as sent, and store a longer one as its SHA-256', () => {
    const longest = 'k'.repeat(IDEMPOTENCY_KEY_MAX_BYTES);
    expect(keys.idempotency('payments', longest)).toBe(`fanout:{events}:idempotency:payments:=${longest}`);
    const tooLong = `${longest}k`;
    const hash = createHash('sha256').update(tooLong).digest('hex');
    expect(keys.idempotency('payments', tooLong)).toBe(`fanout:{events}:idempotency:payments:#${hash}`);
  });

  it('count bytes, not characters, against the limit', () => {
    const multiByte = 'é'.repeat(IDEMPOTENCY_KEY_MAX_BYTES / 2 + 1);
    expect(keys.idempotency('payments', multiByte)).toMatch(/:#[0-9a-f]{64}$/);
  });

  it('never let a sent key that looks like a hash meet the hash of a long key', () => {
    const tooLong = 'k'.repeat(IDEMPOTENCY_KEY_MAX_BYTES + 1);
    const hash = createHash('sha256').update(tooLong).digest('hex');
    expect(keys.idempotency('payments', hash)).not.toBe(keys.idempotency('payments', tooLong));
  });
});
