--[[
  Advance a replay of dead letters: the process holding its lease records how far it got
  (its cursor into the matched deliveries, the batch it has under way, its counts) and
  renews the lease; a finished replay leaves the running set and drops its list and lease.
  Fenced by the lease: a process whose lease ran out (and another took the replay over)
  writes nothing, so two processes never both advance one replay.

  Input:
    KEYS[1] the replay's record
    KEYS[2] its lease
    KEYS[3] the set of running replays
    KEYS[4] its list of matched deliveries

    ARGV[1] the replay's id
    ARGV[2] the lease token of the caller
    ARGV[3] the lease's ttl (ms)
    ARGV[4] the cursor: how many of the matched deliveries are handled
    ARGV[5] the end of the batch under way ('' when none: the cursor is all there is)
    ARGV[6] how many more were queued again
    ARGV[7] how many more were skipped (no longer the dead letter they were)
    ARGV[8] the earliest time the next batch may start (unix ms), so a resumed replay keeps its rate
    ARGV[9] now (unix ms)
    ARGV[10] '1' when the replay is finished

  Returns 1, or 0 when the caller does not hold the lease (nothing is written).
]]
local record, lease = KEYS[1], KEYS[2]
if redis.call('GET', lease) ~= ARGV[2] then return 0 end
if ARGV[6] ~= '0' then redis.call('HINCRBY', record, 'queued', ARGV[6]) end
if ARGV[7] ~= '0' then redis.call('HINCRBY', record, 'skipped', ARGV[7]) end
redis.call('HSET', record, 'cursor', ARGV[4], 'inflight', ARGV[5], 'nextAt', ARGV[8], 'updatedAt', ARGV[9])
if ARGV[10] == '1' then
  redis.call('HSET', record, 'status', 'finished', 'finishedAt', ARGV[9])
  redis.call('SREM', KEYS[3], ARGV[1])
  redis.call('DEL', lease, KEYS[4])
else
  redis.call('PEXPIRE', lease, ARGV[3])
end
return 1
