--[[
  Hand back: a stopping worker ended an attempt it could not finish within the grace period;
  its job goes back to the queue with no retry spent. Whether the destination saw the attempt
  is unknown: it is logged as interrupted, and the delivery is pending again.

  Input:
    KEYS[1] the event record
    KEYS[2] the delivery's attempt log

    ARGV[1] the destination
    ARGV[2] the attempt's number
    ARGV[3] now (unix ms)
    ARGV[4] the attempt log entry (JSON)
    ARGV[5] the attempt log's ttl (ms)
    ARGV[6] the attempt log's longest length

  Returns the delivery's status: 'pending', or the one it kept (settled, or a newer attempt).
]]
--- @include "deliveryRecord"
--- @include "appendAttempt"
local record, destination, attempt = KEYS[1], ARGV[1], tonumber(ARGV[2])
local field = 'd:' .. destination
local current = redis.call('HGET', record, field)
if not current then return 'missing' end
local status = recordStatus(current)
if status ~= 'active' or recordAttempts(current) ~= attempt then return status end
appendAttempt(KEYS[2], ARGV[4], ARGV[6], ARGV[5])
redis.call('HSET', record, field, deliveryRecord('pending', attempt, nil, ARGV[3]))
return 'pending'
