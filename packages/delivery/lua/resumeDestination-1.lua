--[[
  Resume: a paused destination is closed again (its breaker counts from nothing).

  Input:
    KEYS[1] the destination's health

    ARGV: none

  Returns the state it had: 'paused' (now closed), or the state it kept ('closed', 'open',
  'half-open': resume lifts a pause, not an open breaker).
]]
local state = redis.call('HGET', KEYS[1], 'state') or 'closed'
if state == 'paused' then redis.call('DEL', KEYS[1]) end
return state
