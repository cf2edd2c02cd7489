--[[
  Hand back: a stopping worker ended an attempt it could not finish within the grace period;
  its job goes back to the queue with no retry spent. Whether the destination saw the attempt
  is unknown: it is logged as interrupted, and the delivery is pending again.

  Input:
    KEYS[1] the event's record bucket
    KEYS[2] the dead-letter copy of the event
    KEYS[3] the delivery's attempt log

    ARGV[1] the event id
    ARGV[2] the destination
    ARGV[3] the attempt's number
    ARGV[4] now (unix ms)
    ARGV[5] the attempt log entry (JSON)
    ARGV[6] the attempt log's ttl (ms)
    ARGV[7] the attempt log's longest length

  Returns the delivery's status: 'pending', the one it kept (settled, or a newer attempt), or
  'missing' for a delivery without a record.
]]
--- @include "deliveryRecord"
--- @include "eventRecord"
--- @include "appendAttempt"
local bucket, copy, eventId, destination, attempt = KEYS[1], KEYS[2], ARGV[1], ARGV[2], tonumber(ARGV[3])
local record = loadEventRecord(bucket, copy, eventId)
local current = record and getDelivery(record, destination)
if not current then return 'missing' end
local status = recordStatus(current)
if status ~= 'active' or recordAttempts(current) ~= attempt then return status end
appendAttempt(KEYS[3], ARGV[5], ARGV[7], ARGV[6])
setDelivery(record, destination, deliveryRecord('pending', attempt, nil, ARGV[4]))
storeEventRecord(bucket, copy, eventId, record)
return 'pending'
