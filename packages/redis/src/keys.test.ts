import { createHash } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import { newEventId } from '@fanout/core';
import { createKeys, IDEMPOTENCY_KEY_MAX_BYTES, recordBucketOf } from './keys.js';

describe('idempotency keys', () => {
  const [keys] = createKeys('fanout').partitions;

  it('live in the {events} slot, scoped by flow', () => {
    expect(keys!.idempotency('payments', 'evt_1')).toBe('fanout:{events}:idempotency:payments:=evt_1');
    expect(keys!.idempotency('refunds', 'evt_1')).not.toBe(keys!.idempotency('payments', 'evt_1'));
  });

  it('keep a key up to the limit as sent, and store a longer one as its SHA-256', () => {
    const longest = 'k'.repeat(IDEMPOTENCY_KEY_MAX_BYTES);
    expect(keys!.idempotency('payments', longest)).toBe(`fanout:{events}:idempotency:payments:=${longest}`);
    const tooLong = `${longest}k`;
    const hash = createHash('sha256').update(tooLong).digest('hex');
    expect(keys!.idempotency('payments', tooLong)).toBe(`fanout:{events}:idempotency:payments:#${hash}`);
  });

  it('count bytes, not characters, against the limit', () => {
    const multiByte = 'é'.repeat(IDEMPOTENCY_KEY_MAX_BYTES / 2 + 1);
    expect(keys!.idempotency('payments', multiByte)).toMatch(/:#[0-9a-f]{64}$/);
  });

  it('never let a sent key that looks like a hash meet the hash of a long key', () => {
    const tooLong = 'k'.repeat(IDEMPOTENCY_KEY_MAX_BYTES + 1);
    const hash = createHash('sha256').update(tooLong).digest('hex');
    expect(keys!.idempotency('payments', hash)).not.toBe(keys!.idempotency('payments', tooLong));
  });
});

describe('partitions', () => {
  it('keep the {events} tag when there is one', () => {
    const keys = createKeys('fanout');
    const eventId = newEventId();
    expect(keys.partitions).toHaveLength(1);
    expect(keys.partitionOf(eventId).stream).toBe('fanout:{events}:stream');
    expect(keys.partitionOf(eventId).eventRecords(eventId)).toBe(`fanout:{events}:records:${recordBucketOf(eventId)}`);
  });

  it('tag every key of an event with its partition, chosen from the id alone', () => {
    const keys = createKeys('fanout', 4);
    const eventId = newEventId();
    const partition = keys.partitionOf(eventId);
    expect(createKeys('fanout', 4).partitionOf(eventId).index).toBe(partition.index);
    const eventKeys = [partition.stream, partition.openDeliveries, partition.dispatchDeadLetters, partition.eventRecords(eventId), partition.attempts(eventId, 'a'), partition.deadLetterEvent(eventId), partition.idempotency('f', 'k'), partition.line('payments.orders:0123456789abcdef'), partition.lines, partition.dispatchLease, partition.destinationHealth('payments.orders')];
    for (const key of eventKeys) expect(key).toContain(`:{events-${partition.index}}:`);
  });

  it('spread events evenly', () => {
    const keys = createKeys('fanout', 4);
    const counts = [0, 0, 0, 0];
    for (let i = 0; i < 4_000; i++) counts[keys.partitionOf(newEventId()).index]! += 1;
    for (const count of counts) expect(count).toBeGreaterThan(800);
  });

  it('refuse a count that is not a whole number ≥ 1', () => {
    expect(() => createKeys('fanout', 0)).toThrow('partitions must be a whole number ≥ 1, got 0');
  });
});
