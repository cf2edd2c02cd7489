-- Appends an attempt to a delivery's attempt log (created by its first failure), keeping at
-- most maxLength attempts and one response excerpt: the newest attempt's, so a destination's
-- error pages cannot pile up.
local function appendAttempt(log, entry, maxLength, ttl)
  local last = redis.call('LINDEX', log, -1)
  if last then
    local previous = cjson.decode(last)
    if previous['response'] then
      previous['response'] = nil
      redis.call('LSET', log, -1, cjson.encode(previous))
    end
  end
  if redis.call('RPUSH', log, entry) > tonumber(maxLength) then redis.call('LTRIM', log, -tonumber(maxLength), -1) end
  -- Kept ttl past this attempt, or longer where a dead letter's retention already said so.
  redis.call('PEXPIRE', log, ttl, 'NX')
  redis.call('PEXPIRE', log, ttl, 'GT')
end
