-- The field/value list of the stream entry `streamId`, or nil once retention trimmed it.
local function streamEntry(stream, streamId)
  local found = redis.call('XRANGE', stream, streamId, streamId)[1]
  if found then return found[2] end
  return nil
end

-- The stream entry's milliseconds: an open delivery's score.
local function streamMs(streamId)
  return string.match(streamId, '^(%d+)-')
end
