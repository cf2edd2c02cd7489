import { describe, expect, it } from '@jest/globals';
import { attemptsOf, decodeDeliveryRecord, decodeEventRecord, reportedStatus } from './records.js';

describe('delivery records', () => {
  it('read the fields includes/deliveryRecord.lua writes, an error holding "|" included', () => {
    expect(decodeDeliveryRecord('delivered|1|200|1700000000000|12|')).toEqual({ status: 'delivered', attempts: 1, statusCode: 200, at: 1_700_000_000_000, durationMs: 12 });
    expect(decodeDeliveryRecord('pending|0||5||')).toEqual({ status: 'pending', attempts: 0, at: 5 });
    expect(decodeDeliveryRecord('dead|3||9|0|ECONNREFUSED | and more')).toEqual({ status: 'dead', attempts: 3, at: 9, durationMs: 0, error: 'ECONNREFUSED | and more' });
  });

  it('refuse anything else', () => {
    for (const value of ['', 'sent|1||1||', 'delivered|x||1||', '{"status":"delivered"}']) expect(() => decodeDeliveryRecord(value)).toThrow('not a delivery record');
  });

  it('read an event record as includes/eventRecord.lua writes it, times after receivedAt, its deliveries by destination, an error holding "=" included', () => {
    expect(decodeEventRecord('e1', 'payments|1700000000000|2-3;orders=dead|3||9|0|a=b|c;archive=pending|0||-5||')).toEqual({
      id: 'e1',
      flow: 'payments',
      receivedAt: 1_700_000_000_000,
      streamId: '1700000000002-3',
      deliveries: [
        { destination: 'archive', status: 'pending', attempts: 0, at: 1_699_999_999_995 },
        { destination: 'orders', status: 'dead', attempts: 3, at: 1_700_000_000_009, durationMs: 0, error: 'a=b|c' },
      ],
    });
    expect(decodeEventRecord('e2', 'payments|7|0-0')).toMatchObject({ streamId: '7-0', deliveries: [] });
    for (const value of ['', 'payments|7', 'payments|7|9', 'payments|7|0-0;orders', '{"flow":"payments"}']) expect(() => decodeEventRecord('e3', value)).toThrow('not an event record');
  });

  it('name held and active deliveries pending, as the contract does', () => {
    expect(['pending', 'held', 'active', 'retrying', 'delivered', 'dead', 'filtered'].map((status) => reportedStatus(status as never))).toEqual(['pending', 'pending', 'pending', 'retrying', 'delivered', 'dead', 'filtered']);
  });

  it('tell the attempt of a delivery delivered at once from its record, which is all it has', () => {
    const record = decodeDeliveryRecord('delivered|1|204|1000|40|');
    expect(attemptsOf(record, [])).toEqual([{ attempt: 1, at: 960, durationMs: 40, outcome: 'delivered', statusCode: 204 }]);
    expect(attemptsOf(decodeDeliveryRecord('pending|0||5||'), [])).toEqual([]);
  });
});
