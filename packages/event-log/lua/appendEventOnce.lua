--[[
  appendEvent, unless the flow already stored an event with one of these idempotency keys
  within its ttl. Check, append and keys in one step, so of concurrent requests with one key
  exactly one is stored; a repeat writes nothing. A request may carry more than one key (a
  Standard Webhooks webhook-id, kept for the replay defence, and the flow's own key).

  Input (the number of keys is passed first):
    KEYS[1] the partition's event stream
    KEYS[2] the event's record bucket
    KEYS[3..] the idempotency keys, at least one

    ARGV[1] the ttl of a new record bucket (ms)
    ARGV[2..#KEYS - 1] each idempotency key's ttl (ms), in the order of the keys
    ARGV[#KEYS..] the stream entry's field/value list, in encodeEventEntry's order

  Returns {'appended', <stream id>}, or {'replayed', <the first event's id>}.
]]
--- @include "appendEntry"
for k = 3, #KEYS do
  local firstId = redis.call('GET', KEYS[k])
  if firstId then return {'replayed', firstId} end
end
local entryStart = #KEYS
local streamId = appendEntry(KEYS[1], KEYS[2], ARGV[1], entryStart)
-- The event id is the value after the entry's first field name.
local eventId = ARGV[entryStart + 1]
for k = 3, #KEYS do
  redis.call('SET', KEYS[k], eventId, 'PX', ARGV[k - 1])
end
return {'appended', streamId}
