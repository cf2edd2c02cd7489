--[[
  Half-open: an open circuit breaker whose cooldown has ended lets one probe attempt through
  (the next begin takes it, destinationHealth.lua). Every worker process of the destination
  tries this when the cooldown ends; one changes the state.

  Input:
    KEYS[1] the destination's health

    ARGV[1] now (unix ms)

  Returns 1 when it changed the state (open → half-open), else 0.
]]
local state, untilAt = unpack(redis.call('HMGET', KEYS[1], 'state', 'until'))
if state ~= 'open' or tonumber(untilAt) > tonumber(ARGV[1]) then return 0 end
redis.call('HSET', KEYS[1], 'state', 'half-open')
redis.call('HDEL', KEYS[1], 'until', 'probe', 'probeUntil')
return 1
