import { describe, expect, it } from '@jest/globals';
import { readIdempotencyKey } from './idempotency-key.js';

const TTL = 60_000;
const json = (value: unknown): Buffer => Buffer.from(JSON.stringify(value));
const noHeaders = (): undefined => undefined;

describe('readIdempotencyKey', () => {
  it('reads nothing when the flow has no idempotency key', () => {
    expect(readIdempotencyKey(undefined, () => 'k1', json({ id: 'k1' }))).toBeUndefined();
  });

  it('reads the header the flow names, with the flow ttl', () => {
    const headers: Record<string, string> = { 'idempotency-key': 'k1' };
    const header = (name: string): string | undefined => headers[name.toLowerCase()];
    expect(readIdempotencyKey({ headers: ['Idempotency-Key'], ttlMs: TTL }, header, Buffer.alloc(0))).toEqual({ key: 'k1', ttlMs: TTL });
  });

  it('reads the first of several headers that is present: a sender id', () => {
    const headers: Record<string, string> = { 'x-github-delivery': 'gh-1' };
    const header = (name: string): string | undefined => headers[name.toLowerCase()];
    expect(readIdempotencyKey({ headers: ['webhook-id', 'x-github-delivery'], ttlMs: TTL }, header, Buffer.alloc(0))).toEqual({ key: 'gh-1', ttlMs: TTL });
    headers['webhook-id'] = 'msg_1';
    expect(readIdempotencyKey({ headers: ['webhook-id', 'x-github-delivery'], ttlMs: TTL }, header, Buffer.alloc(0))).toEqual({ key: 'msg_1', ttlMs: TTL });
  });

  it('treats an absent or empty header as no key', () => {
    expect(readIdempotencyKey({ headers: ['Idempotency-Key'], ttlMs: TTL }, noHeaders, Buffer.alloc(0))).toBeUndefined();
    expect(readIdempotencyKey({ headers: ['Idempotency-Key'], ttlMs: TTL }, () => '', Buffer.alloc(0))).toBeUndefined();
  });

  it('reads a string or a whole number at the JSON path', () => {
    const policy = { path: ['data', 'id'], ttlMs: TTL };
    expect(readIdempotencyKey(policy, noHeaders, json({ data: { id: 'evt_1' } }))).toEqual({ key: 'evt_1', ttlMs: TTL });
    expect(readIdempotencyKey(policy, noHeaders, json({ data: { id: 42 } }))).toEqual({ key: '42', ttlMs: TTL });
  });

  it.each([
    ['a body that is not JSON', Buffer.from('id=evt_1')],
    ['an empty body', Buffer.alloc(0)],
    ['a missing path', json({ data: {} })],
    ['an empty string', json({ data: { id: '' } })],
    ['an object', json({ data: { id: { nested: 1 } } })],
    ['a boolean', json({ data: { id: true } })],
    ['a fraction', json({ data: { id: 1.5 } })],
    ['an integer JSON cannot hold exactly', Buffer.from('{"data":{"id":12345678901234567890}}')],
  ])('treats %s as no key', (_what, body) => {
    expect(readIdempotencyKey({ path: ['data', 'id'], ttlMs: TTL }, noHeaders, body)).toBeUndefined();
  });
});
