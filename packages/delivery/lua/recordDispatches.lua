--[[
  Dispatch: creates the first record of every delivery of a batch of events (pending for a
  destination that gets a job, filtered for one whose filter turned the event away) and reads
  back where each queued delivery stands. A delivery that has a record keeps it: when an entry
  is dispatched again, a worker may have moved that delivery on already. A queued delivery not
  yet settled is opened (its stream entry is kept from the trim until a worker closes it),
  before its job exists.

  Input (the number of keys is passed first):
    KEYS[1] the partition's open deliveries
    then per event: its record bucket, its dead-letter copy

    ARGV[1] the ttl (ms) of a record bucket made again for an event whose record expired
            before its entry was dispatched
    ARGV[2] now (unix ms)
    then per event: its id, flow, receivedAt, stream id, the number of destinations that follow,
    and per destination: its name, and 'queued' or 'filtered'

  Returns, per event, the status of each queued delivery, in order.
]]
--- @include "deliveryRecord"
--- @include "eventRecord"
--- @include "streamEntry"
local open, ttl, now = KEYS[1], ARGV[1], ARGV[2]
local pending, filtered = deliveryRecord('pending', 0, nil, now), deliveryRecord('filtered', 0, nil, now)
local statuses = {}
local at = 3
for e = 2, #KEYS, 2 do
  local bucket, copy = KEYS[e], KEYS[e + 1]
  local eventId, flow, receivedAt, streamId, count = ARGV[at], ARGV[at + 1], ARGV[at + 2], ARGV[at + 3], tonumber(ARGV[at + 4])
  local record = loadEventRecord(bucket, copy, eventId)
  if not record then
    record = parseEventRecord(eventRecordHead(flow, receivedAt, streamId))
    record.inBucket = true
    redis.call('HSET', bucket, eventId, record.value)
    redis.call('PEXPIRE', bucket, ttl, 'NX')
  end
  local score = streamMs(streamId)
  local event = {}
  for i = at + 5, at + 4 + 2 * count, 2 do
    local destination, queued = ARGV[i], ARGV[i + 1] == 'queued'
    local current = getDelivery(record, destination)
    if not current then setDelivery(record, destination, queued and pending or filtered) end
    if queued then
      local status = current and recordStatus(current) or 'pending'
      -- Open unless settled: a job that ran before this script (it failed and runs again on a
      -- claim) must still keep its stream entry from the trim.
      if not isFinal(status) then redis.call('ZADD', open, score, eventId .. ':' .. destination) end
      event[#event + 1] = status
    end
  end
  storeEventRecord(bucket, copy, eventId, record)
  statuses[#statuses + 1] = event
  at = at + 5 + 2 * count
end
return statuses
