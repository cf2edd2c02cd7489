--[[
  Dispatch: creates the first record of every delivery of a batch of events (pending for a
  destination that gets a job, filtered for one whose filter turned the event away) and reads
  back where each queued delivery stands. A record that exists is left as it is (HSETNX): when
  an entry is dispatched again, a worker may have moved that delivery on already. A queued
  delivery not yet settled is opened (its stream entry is kept from the trim until a worker
  closes it), before its job exists.

  Input (the number of keys is passed first: one per event):
    KEYS[1] the partition's open deliveries
    KEYS[2..] the event record of each event, in order

    ARGV[1] the event records' ttl (ms), given to one that expired before its entry was dispatched
    ARGV[2] now (unix ms)
    then per event: its id, flow, receivedAt, stream id, the number of destinations that follow,
    and per destination: its name, and 'queued' or 'filtered'

  Returns, per event, the status of each queued delivery, in order.
]]
--- @include "deliveryRecord"
--- @include "streamEntry"
local open, ttl, now = KEYS[1], ARGV[1], ARGV[2]
local pending, filtered = deliveryRecord('pending', 0, nil, now), deliveryRecord('filtered', 0, nil, now)
local statuses = {}
local at = 3
for e = 2, #KEYS do
  local record = KEYS[e]
  local eventId, flow, receivedAt, streamId, count = ARGV[at], ARGV[at + 1], ARGV[at + 2], ARGV[at + 3], tonumber(ARGV[at + 4])
  if redis.call('EXISTS', record) == 0 then
    redis.call('HSET', record, 'flow', flow, 'receivedAt', receivedAt, 'streamId', streamId)
    redis.call('PEXPIRE', record, ttl)
  end
  local score = streamMs(streamId)
  local event = {}
  for i = at + 5, at + 4 + 2 * count, 2 do
    local destination, queued = ARGV[i], ARGV[i + 1] == 'queued'
    local field = 'd:' .. destination
    local written = redis.call('HSETNX', record, field, queued and pending or filtered) == 1
    if queued then
      local status = written and 'pending' or recordStatus(redis.call('HGET', record, field))
      -- Open unless settled: a job that ran before this script (it failed and runs again on a
      -- claim) must still keep its stream entry from the trim.
      if not isFinal(status) then redis.call('ZADD', open, score, eventId .. ':' .. destination) end
      event[#event + 1] = status
    end
  end
  statuses[#statuses + 1] = event
  at = at + 5 + 2 * count
end
return statuses
