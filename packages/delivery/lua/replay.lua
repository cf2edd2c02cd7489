--[[
  Replay: an operator sends a settled delivery again (the admin API's replay, Bull Board's
  Retry). Dead letters are replayed; a delivered delivery only when asked for (Bull Board's
  Retry of a completed job). The record goes back to pending, with its attempt count, so the
  next attempt takes the next number; the delivery is opened again while its stream entry is
  stored (once trimmed, the dead-letter copy holds the body). At an ordered destination it
  joins the end of its line, out of its order: held if deliveries wait before it.

  Input (the number of keys is passed first: 4, or 6 at an ordered destination):
    KEYS[1] the event's record bucket
    KEYS[2] the dead-letter copy of the event
    KEYS[3] the partition's open deliveries
    KEYS[4] the partition's event stream
    KEYS[5] its line (ordered destinations)
    KEYS[6] the partition's set of lines (ordered destinations)

    ARGV[1] the event id
    ARGV[2] the destination
    ARGV[3] now (unix ms)
    ARGV[4] '1' to replay a delivered delivery too, '0' for dead letters only

  Returns the status the delivery had: a replayed one's 'dead' or 'delivered'; any other
  status (nothing replayed), or 'missing' when there is no such delivery.
]]
--- @include "deliveryRecord"
--- @include "eventRecord"
--- @include "streamEntry"
--- @include "line"
local bucket, copy, eventId, destination = KEYS[1], KEYS[2], ARGV[1], ARGV[2]
-- An ordered destination's delivery comes with its line: 6 keys instead of 4.
local line, lines = nil, nil
if #KEYS > 4 then line, lines = KEYS[5], KEYS[6] end
local record = loadEventRecord(bucket, copy, eventId)
local current = record and getDelivery(record, destination)
if not current then return 'missing' end
local status = recordStatus(current)
if not (status == 'dead' or (status == 'delivered' and ARGV[4] == '1')) then return status end
local streamId = recordStreamId(record)
local replayed = 'pending'
if line then
  local first = joinLine(line, lines, lineMember(eventId, streamId, record.receivedAt), ARGV[3])
  if memberEventId(first) ~= eventId then replayed = 'held' end
end
setDelivery(record, destination, deliveryRecord(replayed, recordAttempts(current), nil, ARGV[3]))
storeEventRecord(bucket, copy, eventId, record)
if streamEntry(KEYS[4], streamId) then redis.call('ZADD', KEYS[3], streamMs(streamId), eventId .. ':' .. destination) end
return status
