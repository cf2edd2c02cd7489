-- Appends the stream entry whose field/value list is ARGV[first..] (in encodeEventEntry's
-- order: id, flow, receivedAt, contentType, body) and writes its event record with the
-- record's ttl (ms). ARGV[first + 3] is the flow and ARGV[first + 5] receivedAt. Returns the
-- new entry's stream id.
local function appendEntry(stream, record, recordTtl, first)
  local streamId = redis.call('XADD', stream, '*', unpack(ARGV, first))
  redis.call('HSET', record, 'flow', ARGV[first + 3], 'receivedAt', ARGV[first + 5], 'streamId', streamId)
  redis.call('PEXPIRE', record, recordTtl)
  return streamId
end
