--[[
  appendEvent, unless the flow already stored an event with this idempotency key within its
  ttl. Check, append and key in one step, so of concurrent requests with one key exactly one
  is stored; a repeat writes nothing.

  Input:
    KEYS[1] the partition's event stream
    KEYS[2] the event record
    KEYS[3] the idempotency key

    ARGV[1] the event record's ttl (ms)
    ARGV[2] the idempotency key's ttl (ms)
    ARGV[3..] the stream entry's field/value list, in encodeEventEntry's order

  Returns {'appended', <stream id>}, or {'replayed', <the first event's id>}.
]]
--- @include "appendEntry"
local firstId = redis.call('GET', KEYS[3])
if firstId then return {'replayed', firstId} end
local streamId = appendEntry(KEYS[1], KEYS[2], ARGV[1], 3)
-- ARGV[4] is the event id: the value after the entry's first field name.
redis.call('SET', KEYS[3], ARGV[4], 'PX', ARGV[2])
return {'appended', streamId}
