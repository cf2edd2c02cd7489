--[[
  Begin: the start of an attempt, whoever started the job. Sends only a delivery that exists
  and is not settled: a job that names no real delivery of this flow (added or edited by
  hand), or one whose delivery was delivered or dead-lettered already (re-created after the
  consumer group was lost, run again after its lock was lost), is not sent, whatever another
  stage promised. A delivery found active was cut short (its worker died or lost its lock):
  that attempt is logged as interrupted. The attempt takes the next number, and the delivery
  is active until the attempt's outcome is recorded.

  Input:
    KEYS[1] the event record
    KEYS[2] the partition's event stream
    KEYS[3] the dead-letter copy of the event
    KEYS[4] the delivery's attempt log

    ARGV[1] the destination
    ARGV[2] the flow the job names
    ARGV[3] the stream id the job names
    ARGV[4] now (unix ms)
    ARGV[5] the attempt log's ttl (ms)
    ARGV[6] the attempt log's longest length

  Returns
    {'send', attempt, entry field/value...} (no fields when the payload is no longer stored),
    {'settled', record}: delivered, dead or filtered, not to be sent,
    {'refused', reason}: the job names no delivery,
    {'undispatched'}: the event exists, but its dispatch has not recorded this delivery (yet).
]]
--- @include "deliveryRecord"
--- @include "appendAttempt"
--- @include "streamEntry"
local record, destination, flow, streamId, now = KEYS[1], ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local event = redis.call('HMGET', record, 'flow', 'streamId', 'd:' .. destination)
if not event[1] then return {'refused', 'no event with this id is stored'} end
if event[1] ~= flow then return {'refused', 'the event belongs to flow ' .. event[1] .. ', not ' .. flow} end
if event[2] ~= streamId then return {'refused', 'the event is stream entry ' .. event[2] .. ', not ' .. streamId} end
local current = event[3]
if not current then return {'undispatched'} end
local status = recordStatus(current)
if isFinal(status) then return {'settled', current} end
local attempts = recordAttempts(current)
if status == 'active' then
  local interrupted = {attempt = attempts, at = tonumber(string.match(current, '^[^|]*|[^|]*|[^|]*|([^|]*)')), outcome = 'interrupted',
    error = 'cut short: its worker stopped or lost the job before recording an outcome'}
  appendAttempt(KEYS[4], cjson.encode(interrupted), ARGV[6], ARGV[5])
end
local attempt = attempts + 1
redis.call('HSET', record, 'd:' .. destination, deliveryRecord('active', attempt, nil, now))
local fields = streamEntry(KEYS[2], streamId)
if not fields then
  -- Retention trimmed the entry: a replayed dead letter's body is in its copy.
  local copy = redis.call('HGETALL', KEYS[3])
  if #copy > 0 then fields = copy end
end
local reply = {'send', attempt}
if fields then
  for i = 1, #fields do reply[#reply + 1] = fields[i] end
end
return reply
