--[[
  Dead letter: the delivery ran out of attempts, the destination refused it for good, or
  BullMQ failed its job by itself (it stalled too often). The record says dead, the attempt
  (when there is one) goes to the attempt log, the delivery is closed, and the event is copied
  (from the stream, here) for the dead letter's retention, so a replay after the stream's trim
  sends the same bytes; the copy holds the event record as well (its bucket may expire first),
  and the attempt log is kept that long too. A delivered delivery is never turned dead. At an
  ordered destination the delivery leaves its line (a dead letter lets the next one go). The
  destination's circuit breaker counts the attempt, when there was one.

  Input (the number of keys is passed first: 5, 7 at an ordered destination, one more with a breaker):
    KEYS[1] the event's record bucket
    KEYS[2] the dead-letter copy of the event
    KEYS[3] the partition's open deliveries
    KEYS[4] the delivery's attempt log
    KEYS[5] the partition's event stream
    KEYS[6] its line (ordered destinations)
    KEYS[7] the partition's set of lines (ordered destinations)
    KEYS[#KEYS] the destination's health (when ARGV[12] names a breaker)

    ARGV[1] the event id
    ARGV[2] the destination
    ARGV[3] the attempt's number ('' when no attempt ran: the record's own number is kept)
    ARGV[4] its status code ('' for none)
    ARGV[5] when it ended (unix ms)
    ARGV[6] its duration ('' for none)
    ARGV[7] why the delivery is dead
    ARGV[8] the attempt log entry (JSON; '' for none)
    ARGV[9] the attempt log's ttl (ms)
    ARGV[10] the attempt log's longest length
    ARGV[11] the copy's retention (ms)
    ARGV[12..17] the breaker's policy and this attempt's health (destinationHealth.lua, recordHealth)

  Returns {status, first, change, outageFrom}: the delivery's status ('dead', the one it kept:
  settled, or a newer attempt under way; or 'missing' for a delivery without a record: nothing
  is written); at an ordered destination that it left, the first of its line now (nil when
  nothing waits); the breaker's change (nil for none) and, when it closed, where its outage began.
]]
--- @include "deliveryRecord"
--- @include "eventRecord"
--- @include "appendAttempt"
--- @include "streamEntry"
--- @include "line"
--- @include "destinationHealth"
local bucket, copy, eventId, destination = KEYS[1], KEYS[2], ARGV[1], ARGV[2]
local line, lines, health = lineAndHealthKeys(5, 12)
local record = loadEventRecord(bucket, copy, eventId)
local current = record and getDelivery(record, destination)
if not current then return {'missing'} end
local breaker = recordHealth(health, eventId, ARGV[5], ARGV, 12)
local function settled(status)
  local first = line and leaveLine(line, lines, eventId, ARGV[5])
  return {status, first or false, breaker[1], breaker[2]}
end
if ARGV[8] ~= '' then appendAttempt(KEYS[4], ARGV[8], ARGV[10], ARGV[9]) end
local status = recordStatus(current)
-- Settled already: it left its line then (a repeat leaves it again, harmlessly).
if isFinal(status) then return settled(status) end
-- A worker that lost its lock records late: a newer attempt of the delivery is under way, and keeps its place.
if ARGV[3] ~= '' and recordAttempts(current) > tonumber(ARGV[3]) then return {status, false, breaker[1], breaker[2]} end
local attempt = ARGV[3] ~= '' and ARGV[3] or recordAttempts(current)
setDelivery(record, destination, deliveryRecord('dead', attempt, ARGV[4], ARGV[5], ARGV[6], ARGV[7]))
redis.call('ZREM', KEYS[3], eventId .. ':' .. destination)
if redis.call('EXISTS', copy) == 0 then
  local fields = streamEntry(KEYS[5], recordStreamId(record))
  if fields then redis.call('HSET', copy, unpack(fields)) end
end
redis.call('HSET', copy, 'record', record.value)
storeEventRecord(bucket, copy, eventId, record)
-- NX gives a new copy its ttl; GT lengthens an existing one's when this retention ends later.
redis.call('PEXPIRE', copy, ARGV[11], 'NX')
redis.call('PEXPIRE', copy, ARGV[11], 'GT')
if redis.call('EXISTS', KEYS[4]) == 1 then redis.call('PEXPIRE', KEYS[4], ARGV[11], 'GT') end
return settled('dead')
