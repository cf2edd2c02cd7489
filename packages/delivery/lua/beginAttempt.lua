--[[
  Begin: the start of an attempt, whoever started the job. Sends only a delivery that exists
  and is not settled: a job that names no real delivery of this flow (added or edited by
  hand), or one whose delivery was delivered or dead-lettered already (re-created after the
  consumer group was lost, run again after its lock was lost), is not sent, whatever another
  stage promised. At an ordered destination it sends only the first of its line: any other is
  held (its job waits to be released). A destination that is paused, or whose circuit breaker
  is open (or half-open with its probe under way), sends nothing: the delivery keeps its status
  and the job waits, no attempt spent. A delivery found active was cut short (its worker died
  or lost its lock): that attempt is logged as interrupted. The attempt takes the next number,
  and the delivery is active until the attempt's outcome is recorded.

  Input (the number of keys is passed first: 5, or 7 at an ordered destination):
    KEYS[1] the event's record bucket
    KEYS[2] the dead-letter copy of the event
    KEYS[3] the partition's event stream
    KEYS[4] the delivery's attempt log
    KEYS[5] the destination's health
    KEYS[6] its line (ordered destinations)
    KEYS[7] the partition's set of lines (ordered destinations)

    ARGV[1] the event id
    ARGV[2] the destination
    ARGV[3] the flow the job names
    ARGV[4] the stream id the job names
    ARGV[5] now (unix ms)
    ARGV[6] the attempt log's ttl (ms)
    ARGV[7] the attempt log's longest length
    ARGV[8] a half-open breaker's probe lease (ms): the longest an attempt may take, and some

  Returns
    {'send', attempt, entry field/value...} (no fields when the payload is no longer stored),
    {'held', first}: an earlier delivery of its line comes first (`first` is that one's member),
    {'settled', record, first?}: delivered, dead or filtered, not to be sent; at an ordered
      destination, the first of its line (for its job to be released),
    {'refused', reason, first?}: the job names no delivery (an ordered one that no longer
      exists leaves its line: `first` is the new first),
    {'undispatched'}: the event exists, but its dispatch has not recorded this delivery (yet),
    {'gated', state, until}: the destination is paused, open (until its cooldown ends) or
      half-open with another probe under way (until its lease ends); nothing is written.
]]
--- @include "deliveryRecord"
--- @include "eventRecord"
--- @include "appendAttempt"
--- @include "streamEntry"
--- @include "line"
--- @include "destinationHealth"
local bucket, copy, eventId, destination, flow, streamId, now = KEYS[1], KEYS[2], ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5]
-- An ordered destination's delivery comes with its line: 7 keys instead of 5.
local line, lines = nil, nil
if #KEYS > 5 then line, lines = KEYS[6], KEYS[7] end
local record = loadEventRecord(bucket, copy, eventId)
if not record then
  -- Its record expired before it was delivered: nothing will ever settle it, so it must not hold its line.
  if line then return {'refused', 'no event with this id is stored', leaveLine(line, lines, eventId, now)} end
  return {'refused', 'no event with this id is stored'}
end
if record.flow ~= flow then return {'refused', 'the event belongs to flow ' .. record.flow .. ', not ' .. flow} end
local recordedStreamId = recordStreamId(record)
if recordedStreamId ~= streamId then return {'refused', 'the event is stream entry ' .. recordedStreamId .. ', not ' .. streamId} end
local current = getDelivery(record, destination)
if not current then return {'undispatched'} end
local status = recordStatus(current)
if isFinal(status) then
  if line then return {'settled', current, redis.call('LINDEX', line, 0)} end
  return {'settled', current}
end
if line then
  -- A delivery not in its line (a job made by hand, a line lost with its Redis) joins its end.
  local first = joinLine(line, lines, lineMember(eventId, streamId, record.receivedAt), now)
  if memberEventId(first) ~= eventId then return {'held', first} end
end
local gated = healthGate(KEYS[5], eventId, now, ARGV[8])
if gated then return {'gated', gated[1], gated[2]} end
local attempts = recordAttempts(current)
if status == 'active' then
  local interrupted = {attempt = attempts, at = recordAt(current), outcome = 'interrupted',
    error = 'cut short: its worker stopped or lost the job before recording an outcome'}
  appendAttempt(KEYS[4], cjson.encode(interrupted), ARGV[7], ARGV[6])
end
local attempt = attempts + 1
setDelivery(record, destination, deliveryRecord('active', attempt, nil, now))
storeEventRecord(bucket, copy, eventId, record)
local fields = streamEntry(KEYS[3], streamId)
if not fields then
  -- Retention trimmed the entry: a replayed dead letter's body is in its copy.
  -- Its field `record` is the event record, not part of the entry.
  fields = {}
  local copied = redis.call('HGETALL', copy)
  for i = 1, #copied, 2 do
    if copied[i] ~= 'record' then
      fields[#fields + 1] = copied[i]
      fields[#fields + 1] = copied[i + 1]
    end
  end
end
local reply = {'send', attempt}
for i = 1, #fields do reply[#reply + 1] = fields[i] end
return reply
