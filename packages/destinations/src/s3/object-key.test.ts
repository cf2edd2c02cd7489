import { describe, expect, it } from '@jest/globals';
import { batchObjectKey, eventObjectKey } from './object-key.js';

describe('object keys', () => {
  it('dates an event object by the UTC day of its receivedAt', () => {
    expect(eventObjectKey('payments/', 'evt-1', Date.parse('2026-01-09T23:59:59.999Z'))).toBe('payments/2026/01/09/evt-1');
    expect(eventObjectKey('', 'evt-1', Date.parse('2026-12-31T00:00:00Z'))).toBe('2026/12/31/evt-1');
  });

  it('names a batch by its first and last event ids, dated by its first', () => {
    const first = { eventId: 'a', receivedAt: Date.parse('2026-02-28T23:59:59Z') };
    expect(batchObjectKey('p/', first, 'z', false)).toBe('p/2026/02/28/a_z.ndjson');
    expect(batchObjectKey('p/', first, 'z', true)).toBe('p/2026/02/28/a_z.ndjson.gz');
  });
});
