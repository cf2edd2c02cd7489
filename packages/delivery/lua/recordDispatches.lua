--[[
  Dispatch: creates the first record of every delivery of a batch of events (pending for a
  destination that gets a job, filtered for one whose filter turned the event away) and reads
  back where each queued delivery stands. A delivery that has a record keeps it: when an entry
  is dispatched again, a worker may have moved that delivery on already. A queued delivery not
  yet settled is opened (its stream entry is kept from the trim until a worker closes it),
  before its job exists. A delivery to an ordered destination joins the end of its line: the
  first of its line is pending (it gets a job), any other is held (it gets its job when the
  one before it settles).

  Only the dispatcher that owns the partition writes: lines are joined in stream order only if
  one dispatcher at a time joins them, in that order.

  Input (the number of keys is passed first):
    KEYS[1] the partition's open deliveries
    KEYS[2] the partition's dispatch lease
    KEYS[3] the partition's set of lines
    then per event: its record bucket, its dead-letter copy
    then every line a delivery of the batch joins, each once

    ARGV[1] the ttl (ms) of a record bucket made again for an event whose record expired
            before its entry was dispatched
    ARGV[2] now (unix ms)
    ARGV[3] the dispatcher's lease token: the lease must hold it
    ARGV[4] the number of events
    then per event: its id, flow, receivedAt, stream id, the number of destinations that follow,
    and per destination: its name, its mode ('queued', 'filtered' or 'ordered'), and for
    'ordered' the index in KEYS of its line

  Returns, per event, the status of each queued or ordered delivery, in order; an error
  NOTOWNER when the lease is not the dispatcher's (nothing is written).
]]
--- @include "deliveryRecord"
--- @include "eventRecord"
--- @include "streamEntry"
--- @include "line"
local open, lease, lines, ttl, now = KEYS[1], KEYS[2], KEYS[3], ARGV[1], ARGV[2]
if redis.call('GET', lease) ~= ARGV[3] then return redis.error_reply('NOTOWNER this dispatcher does not own the partition (its lease expired or another took it)') end
local pending, filtered = deliveryRecord('pending', 0, nil, now), deliveryRecord('filtered', 0, nil, now)
local events = tonumber(ARGV[4])
if #KEYS < 3 + 2 * events then return redis.error_reply('ERR recordDispatches: ' .. events .. ' events need at least ' .. (3 + 2 * events) .. ' keys, got ' .. #KEYS) end
local statuses = {}
local at = 5
for e = 1, events do
  local bucket, copy = KEYS[2 + 2 * e], KEYS[3 + 2 * e]
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
  at = at + 5
  for _ = 1, count do
    local destination, mode = ARGV[at], ARGV[at + 1]
    at = at + 2
    local current = getDelivery(record, destination)
    local status = current and recordStatus(current)
    if mode == 'filtered' then
      if not current then setDelivery(record, destination, filtered) end
    else
      if not current then
        status = 'pending'
        if mode == 'ordered' then
          local first = joinLine(KEYS[tonumber(ARGV[at])], lines, lineMember(eventId, streamId, receivedAt), now)
          if memberEventId(first) ~= eventId then status = 'held' end
        end
        setDelivery(record, destination, status == 'held' and deliveryRecord('held', 0, nil, now) or pending)
      end
      -- Open unless settled: a job that ran before this script (it failed and runs again on a
      -- claim) must still keep its stream entry from the trim.
      if not isFinal(status) then redis.call('ZADD', open, score, eventId .. ':' .. destination) end
      event[#event + 1] = status
    end
    if mode == 'ordered' then at = at + 1 end
  end
  storeEventRecord(bucket, copy, eventId, record)
  statuses[#statuses + 1] = event
end
return statuses
