--[[
  Replays a dispatcher dead letter: its entry goes back on the event stream (a new stream
  entry, the same event id) with its event record pointing at it, and the dead letter is
  removed, in one step, so the entry is dispatched again once and the dead letter never
  stays beside it. A dead letter removed meanwhile (replayed by someone else) is left alone.

  Input:
    KEYS[1] the partition's event stream
    KEYS[2] the event's record bucket
    KEYS[3] the partition's dispatcher dead letters

    ARGV[1] the ttl of a new record bucket (ms)
    ARGV[2] the dead letter's id
    ARGV[3..] the stream entry's field/value list, in encodeEventEntry's order

  Returns the new stream entry's id, or false when there is no such dead letter.
]]
--- @include "appendEntry"
if #redis.call('XRANGE', KEYS[3], ARGV[2], ARGV[2]) == 0 then return false end
redis.call('XDEL', KEYS[3], ARGV[2])
return appendEntry(KEYS[1], KEYS[2], ARGV[1], 3)
