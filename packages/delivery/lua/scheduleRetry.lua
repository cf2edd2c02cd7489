--[[
  Retry: the attempt failed and another is scheduled (BullMQ's backoff). The attempt goes to
  the attempt log (created by a delivery's first failure) with the destination's answer; the
  record says retrying, unless the delivery settled meanwhile or a newer attempt began (a
  worker that lost its lock records late), which keep theirs. The destination's circuit
  breaker counts the attempt (this is where a run of failures opens it).

  Input (the number of keys is passed first: 3, or 4 with a breaker):
    KEYS[1] the event's record bucket
    KEYS[2] the dead-letter copy of the event
    KEYS[3] the delivery's attempt log
    KEYS[4] the destination's health (when ARGV[11] names a breaker)

    ARGV[1] the event id
    ARGV[2] the destination
    ARGV[3] the attempt's number
    ARGV[4] its status code ('' for none)
    ARGV[5] when it ended (unix ms)
    ARGV[6] its duration (ms)
    ARGV[7] why it did not deliver
    ARGV[8] its attempt log entry (JSON)
    ARGV[9] the attempt log's ttl (ms)
    ARGV[10] the attempt log's longest length
    ARGV[11..16] the breaker's policy and this attempt's health (destinationHealth.lua, recordHealth)

  Returns {status, change}: the delivery's status ('retrying', the one it kept, or 'missing'
  for a delivery without a record: nothing is written) and the breaker's change (nil for none).
]]
--- @include "deliveryRecord"
--- @include "eventRecord"
--- @include "appendAttempt"
--- @include "destinationHealth"
local bucket, copy, eventId, destination, attempt = KEYS[1], KEYS[2], ARGV[1], ARGV[2], tonumber(ARGV[3])
local record = loadEventRecord(bucket, copy, eventId)
local current = record and getDelivery(record, destination)
if not current then return {'missing'} end
appendAttempt(KEYS[3], ARGV[8], ARGV[10], ARGV[9])
local breaker = recordHealth(#KEYS > 3 and KEYS[4], eventId, ARGV[5], ARGV, 11)
local status = recordStatus(current)
if isFinal(status) or recordAttempts(current) > attempt then return {status, breaker[1]} end
setDelivery(record, destination, deliveryRecord('retrying', attempt, ARGV[4], ARGV[5], ARGV[6], ARGV[7]))
storeEventRecord(bucket, copy, eventId, record)
return {'retrying', breaker[1]}
