--[[
  Moves stream entries to the dispatcher dead letters: each is acknowledged, then copied
  (its fields byte for byte, under a prefix, with the reason, the delivery count and the
  time). Acknowledging first and copying only what this call acknowledged means an entry
  that another dispatcher dispatched (and acknowledged) meanwhile is not dead-lettered too.

  Input:
    KEYS[1] the partition's event stream
    KEYS[2] the partition's dispatcher dead letters

    ARGV[1] the consumer group
    ARGV[2] now (unix ms)
    ARGV[3] the prefix of copied entry fields
    ARGV[4..] per entry: its stream id, the reason, its delivery count

  Returns the stream ids dead-lettered.
]]
local group, now, prefix = ARGV[1], ARGV[2], ARGV[3]
local done = {}
for i = 4, #ARGV, 3 do
  local id = ARGV[i]
  if redis.call('XACK', KEYS[1], group, id) == 1 then
    local fields = {'streamId', id, 'reason', ARGV[i + 1], 'deliveryCount', ARGV[i + 2], 'deadLetteredAt', now}
    local found = redis.call('XRANGE', KEYS[1], id, id)[1]
    if found then
      for j = 1, #found[2], 2 do
        fields[#fields + 1] = prefix .. found[2][j]
        fields[#fields + 1] = found[2][j + 1]
      end
    end
    redis.call('XADD', KEYS[2], '*', unpack(fields))
    done[#done + 1] = id
  end
end
return done
