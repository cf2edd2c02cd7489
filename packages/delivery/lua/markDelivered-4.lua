--[[
  Delivered: the attempt's destination took the event. The delivery is closed (retention may
  trim its stream entry from then on). A delivery that failed before keeps its attempt log
  and gets this attempt in it; one delivered at its first attempt has no log, its record says
  all there is. A delivery already settled (a parallel attempt recorded first) keeps its record.

  Input:
    KEYS[1] the event's record bucket
    KEYS[2] the dead-letter copy of the event
    KEYS[3] the partition's open deliveries
    KEYS[4] the delivery's attempt log

    ARGV[1] the event id
    ARGV[2] the destination
    ARGV[3] the attempt's number
    ARGV[4] its status code ('' for none)
    ARGV[5] when it ended (unix ms)
    ARGV[6] its duration (ms)
    ARGV[7] the attempt log's ttl (ms)
    ARGV[8] the attempt log's longest length

  Returns the delivery's status: 'delivered', the settled status it already had, or 'missing'
  for a delivery without a record (nothing is written).
]]
--- @include "deliveryRecord"
--- @include "eventRecord"
--- @include "appendAttempt"
local bucket, copy, eventId, destination = KEYS[1], KEYS[2], ARGV[1], ARGV[2]
local record = loadEventRecord(bucket, copy, eventId)
local current = record and getDelivery(record, destination)
if not current then return 'missing' end
if redis.call('EXISTS', KEYS[4]) == 1 then
  -- Spelt as records.ts's AttemptRecord; built here, since most deliveries have no log to add it to.
  local entry = {attempt = tonumber(ARGV[3]), at = tonumber(ARGV[5]) - tonumber(ARGV[6]), durationMs = tonumber(ARGV[6]), outcome = 'delivered'}
  if ARGV[4] ~= '' then entry['statusCode'] = tonumber(ARGV[4]) end
  appendAttempt(KEYS[4], cjson.encode(entry), ARGV[8], ARGV[7])
end
if isFinal(recordStatus(current)) then return recordStatus(current) end
setDelivery(record, destination, deliveryRecord('delivered', ARGV[3], ARGV[4], ARGV[5], ARGV[6]))
storeEventRecord(bucket, copy, eventId, record)
redis.call('ZREM', KEYS[3], eventId .. ':' .. destination)
return 'delivered'
