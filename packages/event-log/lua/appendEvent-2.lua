--[[
  Appends an event to its partition's stream and creates its event record, in one step: an
  event is known to GET /events/:id from the moment it is answered 202, and a crash never
  leaves one without the other.

  Input:
    KEYS[1] the partition's event stream
    KEYS[2] the event's record bucket

    ARGV[1] the ttl of a new record bucket (ms)
    ARGV[2..] the stream entry's field/value list, in encodeEventEntry's order

  Returns the new stream entry's id.
]]
--- @include "appendEntry"
return appendEntry(KEYS[1], KEYS[2], ARGV[1], 2)
