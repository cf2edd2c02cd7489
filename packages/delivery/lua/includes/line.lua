-- An ordered destination's line (packages/redis/src/keys.ts, PartitionKeys.line): a list of
-- its deliveries not yet delivered or dead, as `<event id>|<stream id>|<receivedAt>` (what
-- the next one's job is made of), in dispatch order. Only the first may be attempted; the
-- others are held. The partition's set of lines (`lines`) has every line that exists, scored
-- by when it last moved, for the sweep that finds a stuck one.

local function lineMember(eventId, streamId, receivedAt)
  return eventId .. '|' .. streamId .. '|' .. receivedAt
end

local function memberEventId(member)
  return string.match(member, '^([^|]*)')
end

-- Puts the delivery at the end of its line unless it is in it already; answers the line's first member.
local function joinLine(line, lines, member, now)
  if not redis.call('LPOS', line, member) then redis.call('RPUSH', line, member) end
  redis.call('ZADD', lines, now, line)
  return redis.call('LINDEX', line, 0)
end

-- Takes the event's delivery out of its line (the first, but for a replayed one, which waits
-- behind); answers the line's new first member, nil when nothing waits (the line is gone).
local function leaveLine(line, lines, eventId, now)
  local prefix = eventId .. '|'
  local head = redis.call('LINDEX', line, 0)
  if head and string.sub(head, 1, #prefix) == prefix then
    redis.call('LPOP', line)
  else
    for _, member in ipairs(redis.call('LRANGE', line, 0, -1)) do
      if string.sub(member, 1, #prefix) == prefix then
        redis.call('LREM', line, 1, member)
        break
      end
    end
  end
  local nextHead = redis.call('LINDEX', line, 0)
  if nextHead then redis.call('ZADD', lines, now, line) else redis.call('ZREM', lines, line) end
  return nextHead
end

-- A settling script's keys after its `fixed` ones: its line and the set of lines (at an
-- ordered destination), then, last, the destination's health (when ARGV[healthArg] names a
-- breaker). Answers line, lines (nil when unordered) and health (false when no breaker).
local function lineAndHealthKeys(fixed, healthArg)
  local health = ARGV[healthArg] ~= '' and KEYS[#KEYS]
  local line, lines = nil, nil
  if #KEYS - (health and 1 or 0) > fixed then line, lines = KEYS[fixed + 1], KEYS[fixed + 2] end
  return line, lines, health
end
