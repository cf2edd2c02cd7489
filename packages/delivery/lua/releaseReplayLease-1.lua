--[[
  Release a replay's lease: a stopping process lets another take the replay over at once
  instead of after the lease's ttl. Only its own lease: one taken over meanwhile stays.

  Input:
    KEYS[1] the replay's lease

    ARGV[1] the lease token of the caller

  Returns 1 when the lease was released, 0 when it was not the caller's.
]]
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
return redis.call('DEL', KEYS[1])
