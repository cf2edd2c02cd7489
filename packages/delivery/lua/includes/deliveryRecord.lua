-- A delivery record as packages/delivery/src/records.ts reads it, one per destination of an
-- event record (see eventRecord): status|attempts|statusCode|at|durationMs|error, empty where
-- absent, the error last so that it may hold '|'; a ';' in it (it ends a delivery in the event
-- record) is written as ','.
local function deliveryRecord(status, attempts, statusCode, at, durationMs, err)
  local reason = err and string.find(err, ';', 1, true) and string.gsub(err, ';', ',') or err or ''
  return status .. '|' .. attempts .. '|' .. (statusCode or '') .. '|' .. at .. '|' .. (durationMs or '') .. '|' .. reason
end

local function recordStatus(value)
  return string.match(value, '^([^|]*)')
end

local function recordAttempts(value)
  return tonumber(string.match(value, '^[^|]*|([^|]*)'))
end

local function recordAt(value)
  return tonumber(string.match(value, '^[^|]*|[^|]*|[^|]*|([^|]*)'))
end

local function isFinal(status)
  return status == 'delivered' or status == 'dead' or status == 'filtered'
end
