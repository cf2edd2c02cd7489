-- A destination's health (packages/redis/src/keys.ts, PartitionKeys.destinationHealth): one
-- hash shared by every worker process of the destination. No hash is a closed breaker that
-- has seen no failure, which is every healthy destination: the happy path reads one field of
-- a key that does not exist. Fields:
--   state       'open' | 'half-open' | 'paused' (absent: closed)
--   until       open: when its cooldown ends (unix ms)
--   probe       half-open: the event whose attempt is the probe; probeUntil: its lease
--   failures    closed, consecutiveFailures: failed attempts in a row; runFrom: when the run began
--   a:<slot>, f:<slot>   closed, failureRate: attempts and failed attempts per tenth of the window
--   outageFrom  open, half-open: where the outage began (the first failure that opened it)

-- The gate begin passes: nil when an attempt may start, else {state, until} for the job to
-- wait (no attempt spent). Half-open lets one probe through; a probe whose lease ran out
-- (its worker died) is given to the next attempt.
local function healthGate(health, eventId, now, probeLeaseMs)
  local state = redis.call('HGET', health, 'state')
  if not state then return nil end
  if state == 'paused' then return {'paused', ''} end
  if state == 'open' then return {'open', redis.call('HGET', health, 'until')} end
  local probe, probeUntil = unpack(redis.call('HMGET', health, 'probe', 'probeUntil'))
  if probe and probe ~= eventId and tonumber(probeUntil) > tonumber(now) then return {'half-open', probeUntil} end
  redis.call('HSET', health, 'probe', eventId, 'probeUntil', tonumber(now) + tonumber(probeLeaseMs))
  return nil
end

local function openBreaker(health, now, cooldownMs, outageFrom)
  redis.call('DEL', health)
  redis.call('HSET', health, 'state', 'open', 'until', tonumber(now) + tonumber(cooldownMs), 'outageFrom', outageFrom)
end

-- Whether the last tenth-windows' failures trip a failureRate breaker; counts this attempt.
local function rateTrips(health, healthy, now, thresholdPercent, minAttempts, windowMs)
  local slotMs = math.max(1, math.floor(tonumber(windowMs) / 10))
  local slot = math.floor(tonumber(now) / slotMs)
  if redis.call('HINCRBY', health, 'a:' .. slot, 1) == 1 then
    -- A new tenth: the counters older than the window go (once per tenth, not per attempt).
    for _, field in ipairs(redis.call('HKEYS', health)) do
      local counted = tonumber(string.match(field, '^[af]:(%d+)$'))
      if counted and counted <= slot - 10 then redis.call('HDEL', health, field) end
    end
  end
  if healthy == '1' then return false end
  redis.call('HINCRBY', health, 'f:' .. slot, 1)
  local fields = {}
  for s = slot - 9, slot do
    fields[#fields + 1] = 'a:' .. s
    fields[#fields + 1] = 'f:' .. s
  end
  local counts = redis.call('HMGET', health, unpack(fields))
  local attempts, failed = 0, 0
  for i = 1, #counts, 2 do
    attempts = attempts + (tonumber(counts[i]) or 0)
    failed = failed + (tonumber(counts[i + 1]) or 0)
  end
  return attempts >= tonumber(minAttempts) and failed * 100 >= tonumber(thresholdPercent) * attempts
end

-- An attempt's outcome, as the breaker counts it. `policy` is the transition's ARGV from
-- `at`: mode ('' none | 'consecutive' | 'rate'), healthy ('1' answered, '0' failed, '' not
-- counted), threshold (failures, or percent), minAttempts, windowMs, cooldownMs.
-- Answers {change, outageFrom}: 'opened' | 'reopened' | 'closed' | false, and where the
-- outage began (for a redrive) when it closed.
local function recordHealth(health, eventId, now, policy, at)
  local mode, healthy = policy[at], policy[at + 1]
  if mode == '' or healthy == '' then return {false, false} end
  local threshold, minAttempts, windowMs, cooldownMs = policy[at + 2], policy[at + 3], policy[at + 4], policy[at + 5]
  local state, failures = unpack(redis.call('HMGET', health, 'state', 'failures'))
  if state == 'half-open' then
    -- Only the probe decides; attempts begun before it opened that end now are not counted.
    local probe, outageFrom = unpack(redis.call('HMGET', health, 'probe', 'outageFrom'))
    if probe ~= eventId then return {false, false} end
    if healthy == '1' then
      redis.call('DEL', health)
      return {'closed', outageFrom}
    end
    openBreaker(health, now, cooldownMs, outageFrom)
    return {'reopened', false}
  end
  -- Open or paused: what ends now began before, and says nothing the state does not know.
  if state then return {false, false} end
  if mode == 'consecutive' then
    if healthy == '1' then
      if failures then redis.call('HDEL', health, 'failures', 'runFrom') end
      return {false, false}
    end
    local count = redis.call('HINCRBY', health, 'failures', 1)
    if count == 1 then redis.call('HSET', health, 'runFrom', now) end
    if count < tonumber(threshold) then return {false, false} end
    openBreaker(health, now, cooldownMs, redis.call('HGET', health, 'runFrom'))
    return {'opened', false}
  end
  if not rateTrips(health, healthy, now, threshold, minAttempts, windowMs) then return {false, false} end
  openBreaker(health, now, cooldownMs, tonumber(now) - tonumber(windowMs))
  return {'opened', false}
end
