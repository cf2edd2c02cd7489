-- Appends the stream entry whose field/value list is ARGV[first..] (in encodeEventEntry's
-- order: id, flow, receivedAt, contentType, [flowVersion], body) and writes its event record:
-- the field <event id> of its record bucket, holding `<flow>|<receivedAt>|<stream id>`, the
-- stream id's ms part as ms after receivedAt (the delivery records follow as its deliveries are
-- dispatched; packages/delivery/lua/includes/eventRecord.lua spells the format). A new bucket
-- is kept the records' ttl (ms) from now.
-- ARGV[first + 1] is the event id, ARGV[first + 3] the flow, ARGV[first + 5] receivedAt.
-- Returns the new entry's stream id.
local function appendEntry(stream, records, recordTtl, first)
  local streamId = redis.call('XADD', stream, '*', unpack(ARGV, first))
  local streamMs, streamSeq = string.match(streamId, '^(%d+)-(%d+)$')
  local after = string.format('%.0f', tonumber(streamMs) - tonumber(ARGV[first + 5]))
  redis.call('HSET', records, ARGV[first + 1], ARGV[first + 3] .. '|' .. ARGV[first + 5] .. '|' .. after .. '-' .. streamSeq)
  redis.call('PEXPIRE', records, recordTtl, 'NX')
  return streamId
end
