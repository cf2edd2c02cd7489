--[[
  A stopping dispatcher gives its partition's lease up, so another takes it at once rather
  than when it expires; a lease another holds is left alone.

  Input:
    KEYS[1] the partition's dispatch lease

    ARGV[1] the dispatcher's token

  Returns 1 when it held the lease (now deleted), 0 otherwise.
]]
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1])
return 1
