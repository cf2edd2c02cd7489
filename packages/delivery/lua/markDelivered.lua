--[[
  Delivered: the attempt's destination took the event. The delivery is closed (retention may
  trim its stream entry from then on). A delivery that failed before keeps its attempt log
  and gets this attempt in it; one delivered at its first attempt has no log, its record says
  all there is. A delivery already settled (a parallel attempt recorded first) keeps its record.
  At an ordered destination the delivery leaves its line, and the next one may go. The
  destination's circuit breaker counts the attempt (a probe's success closes it).

  Input (the number of keys is passed first: 4, 6 at an ordered destination, one more with a breaker):
    KEYS[1] the event's record bucket
    KEYS[2] the dead-letter copy of the event
    KEYS[3] the partition's open deliveries
    KEYS[4] the delivery's attempt log
    KEYS[5] its line (ordered destinations)
    KEYS[6] the partition's set of lines (ordered destinations)
    KEYS[#KEYS] the destination's health (when ARGV[9] names a breaker)

    ARGV[1] the event id
    ARGV[2] the destination
    ARGV[3] the attempt's number
    ARGV[4] its status code ('' for none)
    ARGV[5] when it ended (unix ms)
    ARGV[6] its duration (ms)
    ARGV[7] the attempt log's ttl (ms)
    ARGV[8] the attempt log's longest length
    ARGV[9..14] the breaker's policy and this attempt's health (destinationHealth.lua, recordHealth)

  Returns {status, first, change, outageFrom}: the delivery's status ('delivered', the settled
  status it already had, or 'missing' for a delivery without a record: nothing is written);
  at an ordered destination, the first of its line now (nil when nothing waits), whose job is
  to be released; the breaker's change (nil for none) and, when it closed, where its outage began.
]]
--- @include "deliveryRecord"
--- @include "eventRecord"
--- @include "appendAttempt"
--- @include "line"
--- @include "destinationHealth"
local bucket, copy, eventId, destination = KEYS[1], KEYS[2], ARGV[1], ARGV[2]
local line, lines, health = lineAndHealthKeys(4, 9)
local record = loadEventRecord(bucket, copy, eventId)
local current = record and getDelivery(record, destination)
if not current then return {'missing'} end
local breaker = recordHealth(health, eventId, ARGV[5], ARGV, 9)
if redis.call('EXISTS', KEYS[4]) == 1 then
  -- Spelt as records.ts's AttemptRecord; built here, since most deliveries have no log to add it to.
  local entry = {attempt = tonumber(ARGV[3]), at = tonumber(ARGV[5]) - tonumber(ARGV[6]), durationMs = tonumber(ARGV[6]), outcome = 'delivered'}
  if ARGV[4] ~= '' then entry['statusCode'] = tonumber(ARGV[4]) end
  appendAttempt(KEYS[4], cjson.encode(entry), ARGV[8], ARGV[7])
end
local status = recordStatus(current)
if not isFinal(status) then
  setDelivery(record, destination, deliveryRecord('delivered', ARGV[3], ARGV[4], ARGV[5], ARGV[6]))
  storeEventRecord(bucket, copy, eventId, record)
  redis.call('ZREM', KEYS[3], eventId .. ':' .. destination)
  status = 'delivered'
end
local first = line and leaveLine(line, lines, eventId, ARGV[5])
return {status, first or false, breaker[1], breaker[2]}
