import type { Redis } from 'ioredis';
import { DELIVERY_FIELD, openDeliveryMember, type DeliveryRecord, type DeliveryStatus } from './delivery-records.js';
import type { FanoutKeys } from './keys.js';
import { withScript, type FanoutScript } from './scripts.js';

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

// KEYS[1] the open deliveries, KEYS[2..] the event record of each event, in order.
// ARGV[1] the records' ttl; then per event: flow, receivedAt and stream id (to write its record
// again if it expired), the open deliveries' score (the stream id's ms) and how many
// destinations follow; per destination: its record field, its first record, and its
// open-deliveries member, or '' when it gets no job. Returns, per event, the current status
// of every delivery that gets a job.
const RECORD_DISPATCHES_LUA = `
local open = KEYS[1]
local statuses = {}
local at = 2
for e = 2, #KEYS do
  local record = KEYS[e]
  if redis.call('EXISTS', record) == 0 then
    redis.call('HSET', record, 'flow', ARGV[at], 'receivedAt', ARGV[at + 1], 'streamId', ARGV[at + 2])
    redis.call('PEXPIRE', record, ARGV[1])
  end
  local score, last = ARGV[at + 3], at + 4 + 3 * tonumber(ARGV[at + 4])
  local event = {}
  for i = at + 5, last, 3 do
    local written = redis.call('HSETNX', record, ARGV[i], ARGV[i + 1]) == 1
    if ARGV[i + 2] ~= '' then
      -- A queued delivery's first record is pending: only a record that was there is read back.
      local status = written and 'pending' or cjson.decode(redis.call('HGET', record, ARGV[i])).status
      -- Retrying too: a job that ran before this script (a failed script retried on a claim,
      -- or jobs sent on another connection) must still keep its stream entry from the trim.
      if status == 'pending' or status == 'retrying' then redis.call('ZADD', open, score, ARGV[i + 2]) end
      event[#event + 1] = status
    end
  end
  statuses[#statuses + 1] = event
  at = last + 1
end
return statuses
`;

interface RecordDispatchesCommand {
  fanoutRecordDispatches(numberOfKeys: number, ...keysAndArgs: (string | number)[]): Promise<DeliveryStatus[][]>;
}

// No fixed numberOfKeys: one key per event of the batch.
export const RECORD_DISPATCHES_SCRIPT: FanoutScript = { name: 'fanoutRecordDispatches', lua: RECORD_DISPATCHES_LUA };

/**
 * Writes the first delivery records of each event and reads back where every queued
 * delivery stands, in one script for the whole batch (one command, one round trip):
 * - a record that exists is left as it is (HSETNX): when a crashed dispatcher's entry is
 *   dispatched again, a worker may have moved that delivery on already;
 * - an event record that expired is written again whole, with `recordTtlMs`, rather than
 *   left as a hash without flow or ttl;
 * - a queued delivery not yet delivered or dead is opened (`keys.openDeliveries`), so
 *   retention keeps its stream entry until a worker closes it. It is opened before its job
 *   exists, so the worker's close comes after; should its job have run first (see
 *   `dispatchBatch`), a `retrying` delivery is opened all the same.
 *
 * Answers, per event, the status of each queued destination, by destination.
 */
export async function recordDispatches(redis: Redis, keys: FanoutKeys, events: readonly EventDispatchRecords[], recordTtlMs: number): Promise<Map<string, DeliveryStatus>[]> {
  if (events.length === 0) return [];
  const eventKeys: string[] = [];
  const args: (string | number)[] = [recordTtlMs];
  for (const { eventId, flow, receivedAt, streamId, records, queued } of events) {
    eventKeys.push(keys.event(eventId));
    args.push(flow, receivedAt, streamId, streamId.split('-')[0]!, records.size);
    for (const [destination, record] of records) {
      args.push(DELIVERY_FIELD + destination, JSON.stringify(record), queued.includes(destination) ? openDeliveryMember(eventId, destination) : '');
    }
  }
  const statuses = await withScript<RecordDispatchesCommand>(redis, RECORD_DISPATCHES_SCRIPT).fanoutRecordDispatches(1 + eventKeys.length, keys.openDeliveries, ...eventKeys, ...args);
  return events.map(({ records, queued }, e) => {
    const queuedInOrder = [...records.keys()].filter((destination) => queued.includes(destination));
    return new Map(queuedInOrder.map((destination, i) => [destination, statuses[e]![i]!] as const));
  });
}
