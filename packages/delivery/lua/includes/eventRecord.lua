-- An event record, as packages/delivery/src/records.ts reads it: the field <event id> of the
-- event's record bucket, holding
--   <flow>|<receivedAt>|<stream id>;<destination>=<delivery record>;<destination>=…
-- (destination names are [a-z0-9-]; a delivery record holds no ';', see deliveryRecord). Times
-- past receivedAt are stored as ms after it (the stream id's ms part, each delivery's `at`),
-- which keeps a record about a quarter shorter; in memory they are unix ms. A dead letter's
-- event keeps its record in its dead-letter copy as well (field `record`), for the dead
-- letter's retention, which outlives the bucket.

local function shifted(ms, by)
  return string.format('%.0f', tonumber(ms) + by)
end

-- A delivery record's `at` (its fourth field) moved by `by` ms.
local function shiftDeliveryAt(delivery, by)
  local before, at, after = string.match(delivery, '^([^|]*|[^|]*|[^|]*|)([^|]*)(.*)$')
  return before .. shifted(at, by) .. after
end

-- The head alone, as a new event's record starts (packages/event-log/lua/includes/appendEntry.lua writes the same).
local function eventRecordHead(flow, receivedAt, streamId)
  local streamMs, streamSeq = string.match(streamId, '^(%d+)-(%d+)$')
  return flow .. '|' .. receivedAt .. '|' .. shifted(streamMs, -tonumber(receivedAt)) .. '-' .. streamSeq
end

-- The record's head, read; its deliveries stay in `value` until one is asked for (a
-- transition touches one delivery: it neither reads nor rewrites the others).
local function parseEventRecord(value)
  local flow, receivedAt = string.match(value, '^([^|]*)|([^|]*)|')
  return {flow = flow, receivedAt = receivedAt, received = tonumber(receivedAt), value = value}
end

-- The stream id of the event's entry.
local function recordStreamId(record)
  local after, seq = string.match(record.value, '^[^|]*|[^|]*|(-?%d+)-(%d+)')
  return shifted(after, record.received) .. '-' .. seq
end

-- A destination's delivery record (its `at` in unix ms), or nil when the event has none for it.
local function getDelivery(record, name)
  local _, to = string.find(record.value, ';' .. name .. '=', 1, true)
  if not to then return nil end
  local stop = string.find(record.value, ';', to + 1, true)
  return shiftDeliveryAt(string.sub(record.value, to + 1, stop and stop - 1 or -1), record.received)
end

local function setDelivery(record, name, delivery)
  local marker = ';' .. name .. '='
  local stored = marker .. shiftDeliveryAt(delivery, -record.received)
  local from, to = string.find(record.value, marker, 1, true)
  if not from then
    record.value = record.value .. stored
    return
  end
  local stop = string.find(record.value, ';', to + 1, true)
  if stop then
    record.value = string.sub(record.value, 1, from - 1) .. stored .. string.sub(record.value, stop)
  else
    record.value = string.sub(record.value, 1, from - 1) .. stored
  end
end

-- The event's record: its bucket's field, else (the bucket expired) its dead-letter copy's; nil for none.
local function loadEventRecord(bucket, copy, eventId)
  local value = redis.call('HGET', bucket, eventId)
  local inBucket = value ~= false
  if not inBucket then value = redis.call('HGET', copy, 'record') end
  if not value then return nil end
  local record = parseEventRecord(value)
  record.inBucket = inBucket
  return record
end

-- Writes the record back where it is kept: its bucket while that holds it, its dead-letter copy while it has one.
local function storeEventRecord(bucket, copy, eventId, record)
  if record.inBucket then redis.call('HSET', bucket, eventId, record.value) end
  if redis.call('EXISTS', copy) == 1 then redis.call('HSET', copy, 'record', record.value) end
end
