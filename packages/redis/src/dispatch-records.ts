import type { Redis } from 'ioredis';
import { DELIVERY_FIELD, openDeliveryMember, type DeliveryRecord, type DeliveryStatus } from './delivery-records.js';
import type { FanoutKeys } from './keys.js';

/** An event about to be dispatched: where its record comes from, and its deliveries' first records. */
export interface EventDispatchRecords {
  readonly eventId: string;
  readonly flow: string;
  /** Unix ms. */
  readonly receivedAt: number;
  readonly streamId: string;
  /** The first record of every destination of the flow, by destination. */
  readonly records: ReadonlyMap<string, DeliveryRecord>;
  /** The destinations that get a job (the others were filtered out). */
  readonly queued: readonly string[];
}

// KEYS[1] the event record, KEYS[2] the open deliveries.
// ARGV[1] the record's ttl, ARGV[2..4] flow, receivedAt and stream id (to write the record
// again if it expired), ARGV[5] the open deliveries' score (the stream id's ms); then per
// destination: its record field, its first record, and its open-deliveries member, or ''
// when it gets no job. Returns the current status of every delivery that gets a job.
const RECORD_DISPATCH_LUA = `
local record, open = KEYS[1], KEYS[2]
if redis.call('EXISTS', record) == 0 then
  redis.call('HSET', record, 'flow', ARGV[2], 'receivedAt', ARGV[3], 'streamId', ARGV[4])
  redis.call('PEXPIRE', record, ARGV[1])
end
local statuses = {}
for i = 6, #ARGV, 3 do
  redis.call('HSETNX', record, ARGV[i], ARGV[i + 1])
  if ARGV[i + 2] ~= '' then
    local status = cjson.decode(redis.call('HGET', record, ARGV[i])).status
    if status == 'pending' then redis.call('ZADD', open, ARGV[5], ARGV[i + 2]) end
    statuses[#statuses + 1] = status
  end
end
return statuses
`;

interface RecordDispatchCommand {
  fanoutRecordDispatch(recordKey: string, openKey: string, ...args: (string | number)[]): Promise<DeliveryStatus[]>;
}

function withRecordDispatch(redis: Redis): RecordDispatchCommand {
  if (!('fanoutRecordDispatch' in redis)) redis.defineCommand('fanoutRecordDispatch', { numberOfKeys: 2, lua: RECORD_DISPATCH_LUA });
  return redis as unknown as RecordDispatchCommand;
}

/**
 * Writes the first delivery records of each event and reads back where every queued
 * delivery stands, in one script per event (all sent at once, so one round trip per batch):
 * - a record that exists is left as it is (HSETNX): when a crashed dispatcher's entry is
 *   dispatched again, a worker may have moved that delivery on already;
 * - an event record that expired is written again whole, with `recordTtlMs`, rather than
 *   left as a hash without flow or ttl;
 * - a queued delivery still `pending` is opened (`keys.openDeliveries`), so retention keeps
 *   its stream entry until a worker closes it. It is opened before its job exists, so the
 *   worker's close always comes after.
 *
 * Answers, per event, the status of each queued destination, by destination.
 */
export async function recordDispatches(redis: Redis, keys: FanoutKeys, events: readonly EventDispatchRecords[], recordTtlMs: number): Promise<Map<string, DeliveryStatus>[]> {
  const command = withRecordDispatch(redis);
  return Promise.all(
    events.map(async ({ eventId, flow, receivedAt, streamId, records, queued }) => {
      const args: (string | number)[] = [recordTtlMs, flow, receivedAt, streamId, streamId.split('-')[0]!];
      for (const [destination, record] of records) {
        args.push(DELIVERY_FIELD + destination, JSON.stringify(record), queued.includes(destination) ? openDeliveryMember(eventId, destination) : '');
      }
      const statuses = await command.fanoutRecordDispatch(keys.event(eventId), keys.openDeliveries, ...args);
      const queuedInOrder = [...records.keys()].filter((destination) => queued.includes(destination));
      return new Map(queuedInOrder.map((destination, i) => [destination, statuses[i]!] as const));
    }),
  );
}
