--[[
  Trims a partition's event stream by age (XTRIM MINID), never past an entry still needed:
  the trim point is the oldest of the age cutoff, the oldest open delivery's entry, the
  group's oldest pending entry (read, not yet dispatched) and its last-delivered id (entries
  after it were never read). One script, so nothing is dispatched or opened between reading
  those bounds and trimming. Also drops open deliveries past their longest life and trims the
  dispatcher dead letters by age.

  Input:
    KEYS[1] the partition's event stream
    KEYS[2] the partition's open deliveries
    KEYS[3] the partition's dispatcher dead letters

    ARGV[1] the consumer group
    ARGV[2] the stream's age cutoff (unix ms)
    ARGV[3] the open deliveries' cutoff (unix ms)
    ARGV[4] the dispatcher dead letters' cutoff (unix ms)

  Returns {entries trimmed, the stream id trimmed to ('' when there is no group yet),
  dead letters trimmed, the open deliveries dropped}.
]]
local stream, open, deadLetters, group = KEYS[1], KEYS[2], KEYS[3], ARGV[1]
local function older(a, b)
  local ams, aseq = string.match(a, '^(%d+)-(%d+)$')
  local bms, bseq = string.match(b, '^(%d+)-(%d+)$')
  ams, aseq, bms, bseq = tonumber(ams), tonumber(aseq), tonumber(bms), tonumber(bseq)
  if ams < bms or (ams == bms and aseq <= bseq) then return a end
  return b
end
local expired = redis.call('ZRANGEBYSCORE', open, '-inf', '(' .. ARGV[3])
if #expired > 0 then redis.call('ZREMRANGEBYSCORE', open, '-inf', '(' .. ARGV[3]) end
local deadLettersTrimmed = redis.call('XTRIM', deadLetters, 'MINID', ARGV[4] .. '-0')
local groups = redis.pcall('XINFO', 'GROUPS', stream)
if groups.err then return {0, '', deadLettersTrimmed, expired} end
local lastDelivered
for _, info in ipairs(groups) do
  local fields = {}
  for i = 1, #info, 2 do fields[info[i]] = info[i + 1] end
  if fields['name'] == group then lastDelivered = fields['last-delivered-id'] end
end
if not lastDelivered then return {0, '', deadLettersTrimmed, expired} end
local minId = older(ARGV[2] .. '-0', lastDelivered)
local pending = redis.call('XPENDING', stream, group)
if pending[1] > 0 then minId = older(minId, pending[2]) end
local oldestOpen = redis.call('ZRANGE', open, 0, 0, 'WITHSCORES')[2]
if oldestOpen then minId = older(minId, oldestOpen .. '-0') end
return {redis.call('XTRIM', stream, 'MINID', minId), minId, deadLettersTrimmed, expired}
