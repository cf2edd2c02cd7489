--[[
  The dispatch lease of a partition: taken when nobody holds it, kept (its ttl renewed) by
  the dispatcher that holds it. A dispatcher whose lease expired and was taken finds out here.

  Input:
    KEYS[1] the partition's dispatch lease

    ARGV[1] the dispatcher's token (its consumer name)
    ARGV[2] the lease's ttl (ms)

  Returns 1 when the dispatcher holds the lease now (taken or renewed), 0 when another does.
]]
local holder = redis.call('GET', KEYS[1])
if holder and holder ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
