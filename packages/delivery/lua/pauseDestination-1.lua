--[[
  Pause: an operator (or an HTTP 410 with onGone: pause) stops every attempt to the
  destination until it is resumed; deliveries keep arriving and wait. Whatever the breaker
  counted is dropped: a resumed destination starts closed.

  Input:
    KEYS[1] the destination's health

    ARGV[1] now (unix ms)
    ARGV[2] why ('operator', 'gone')

  Returns the state it had: 'closed', 'open', 'half-open' or 'paused' (then nothing changed).
]]
local state = redis.call('HGET', KEYS[1], 'state') or 'closed'
if state == 'paused' then return state end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'state', 'paused', 'pausedAt', ARGV[1], 'reason', ARGV[2])
return state
