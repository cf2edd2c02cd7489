-- A delivery record as packages/delivery/src/records.ts reads it, one hash field per
-- destination: status|attempts|statusCode|at|durationMs|error, empty where absent, the error
-- last so that it may hold '|'. Kept short so the event record stays a listpack (values of at
-- most 64 bytes), a quarter of the size of a hashtable.
local function deliveryRecord(status, attempts, statusCode, at, durationMs, err)
  return status .. '|' .. attempts .. '|' .. (statusCode or '') .. '|' .. at .. '|' .. (durationMs or '') .. '|' .. (err or '')
end

local function recordStatus(value)
  return string.match(value, '^([^|]*)')
end

local function recordAttempts(value)
  return tonumber(string.match(value, '^[^|]*|([^|]*)'))
end

local function isFinal(status)
  return status == 'delivered' or status == 'dead' or status == 'filtered'
end
