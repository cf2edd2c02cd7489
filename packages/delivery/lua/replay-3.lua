--[[
  Replay: an operator sends a settled delivery again (the admin API's replay, Bull Board's
  Retry). Dead letters are replayed; a delivered delivery only when asked for (Bull Board's
  Retry of a completed job). The record goes back to pending, with its attempt count, so the
  next attempt takes the next number; the delivery is opened again while its stream entry is
  stored (once trimmed, the dead-letter copy holds the body).

  Input:
    KEYS[1] the event record
    KEYS[2] the partition's open deliveries
    KEYS[3] the partition's event stream

    ARGV[1] the destination
    ARGV[2] the event id
    ARGV[3] now (unix ms)
    ARGV[4] '1' to replay a delivered delivery too, '0' for dead letters only

  Returns the status the delivery had: a replayed one's 'dead' or 'delivered'; any other
  status (nothing replayed), or 'missing' when there is no such delivery.
]]
--- @include "deliveryRecord"
--- @include "streamEntry"
local record, destination = KEYS[1], ARGV[1]
local field = 'd:' .. destination
local current = redis.call('HGET', record, field)
if not current then return 'missing' end
local status = recordStatus(current)
if not (status == 'dead' or (status == 'delivered' and ARGV[4] == '1')) then return status end
redis.call('HSET', record, field, deliveryRecord('pending', recordAttempts(current), nil, ARGV[3]))
local streamId = redis.call('HGET', record, 'streamId')
if streamEntry(KEYS[3], streamId) then redis.call('ZADD', KEYS[2], streamMs(streamId), ARGV[2] .. ':' .. destination) end
return status
