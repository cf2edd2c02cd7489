--[[
  Retry: the attempt failed and another is scheduled (BullMQ's backoff). The attempt goes to
  the attempt log (created by a delivery's first failure) with the destination's answer; the
  record says retrying, unless the delivery settled meanwhile or a newer attempt began (a
  worker that lost its lock records late), which keep theirs.

  Input:
    KEYS[1] the event record
    KEYS[2] the delivery's attempt log

    ARGV[1] the destination
    ARGV[2] the attempt's number
    ARGV[3] its status code ('' for none)
    ARGV[4] when it ended (unix ms)
    ARGV[5] its duration (ms)
    ARGV[6] why it did not deliver
    ARGV[7] its attempt log entry (JSON)
    ARGV[8] the attempt log's ttl (ms)
    ARGV[9] the attempt log's longest length

  Returns the delivery's status: 'retrying', the one it kept, or 'missing' for a delivery
  without a record (nothing is written).
]]
--- @include "deliveryRecord"
--- @include "appendAttempt"
local record, destination, attempt = KEYS[1], ARGV[1], tonumber(ARGV[2])
local field = 'd:' .. destination
local current = redis.call('HGET', record, field)
if not current then return 'missing' end
appendAttempt(KEYS[2], ARGV[7], ARGV[9], ARGV[8])
local status = recordStatus(current)
if isFinal(status) or recordAttempts(current) > attempt then return status end
redis.call('HSET', record, field, deliveryRecord('retrying', attempt, ARGV[3], ARGV[4], ARGV[5], ARGV[6]))
return 'retrying'
