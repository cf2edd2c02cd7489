import type { Redis } from 'ioredis';
import { DISPATCHER_GROUP, type FanoutKeys } from './keys.js';
import { withScript, type FanoutScript } from './scripts.js';

export interface TrimOptions {
  /** Unix ms. */
  readonly now: number;
  /** Stream entries older than this (ms) are trimmed, unless one that is still needed holds them back. */
  readonly retentionMs: number;
  /**
   * Open deliveries older than this (ms) stop holding entries back: the event record is gone
   * by then, and a delivery left open that long (its job removed by hand, its destination
   * removed from the flow) must not stop retention for good.
   */
  readonly openDeliveryMaxAgeMs: number;
  /** Dispatcher dead letters older than this (ms) are trimmed. */
  readonly deadLetterRetentionMs: number;
}

export interface TrimResult {
  /** Stream entries trimmed. */
  readonly trimmed: number;
  /** The stream id the stream now starts at or after; undefined when nothing could be trimmed (no dispatcher group yet). */
  readonly minId: string | undefined;
  readonly deadLettersTrimmed: number;
  /** Open deliveries (`<eventId>:<destination>`) dropped for being older than `openDeliveryMaxAgeMs`. */
  readonly expiredOpenDeliveries: string[];
}

// KEYS[1] the event stream, KEYS[2] the open deliveries, KEYS[3] the dispatcher dead letters.
// ARGV[1] the group, ARGV[2] the retention cutoff (ms), ARGV[3] the open deliveries' cutoff
// (ms), ARGV[4] the dead letters' cutoff (ms). The trim point is the oldest of: the cutoff,
// the oldest open delivery's entry, the group's oldest pending entry (read, not yet
// dispatched), and its last-delivered id (entries after it were never read). One script, so
// nothing can be dispatched or opened between reading those bounds and trimming.
const TRIM_LUA = `
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
`;

interface TrimCommand {
  fanoutTrimStream(streamKey: string, openKey: string, deadLettersKey: string, group: string, cutoff: number, openCutoff: number, deadLetterCutoff: number): Promise<[number, string, number, string[]]>;
}

export const TRIM_STREAM_SCRIPT: FanoutScript = { name: 'fanoutTrimStream', numberOfKeys: 3, lua: TRIM_LUA };

/**
 * Trims the event stream by age (exactly, `XTRIM MINID`), but never an entry that is still
 * needed: one with an open delivery (pending or retrying), one the dispatchers have read but
 * not yet dispatched, or one they have not read yet. Also trims the dispatcher dead letters
 * by age and drops open deliveries past `openDeliveryMaxAgeMs`.
 */
export async function trimEventStream(redis: Redis, keys: FanoutKeys, { now, retentionMs, openDeliveryMaxAgeMs, deadLetterRetentionMs }: TrimOptions): Promise<TrimResult> {
  const [trimmed, minId, deadLettersTrimmed, expiredOpenDeliveries] = await withScript<TrimCommand>(redis, TRIM_STREAM_SCRIPT).fanoutTrimStream(
    keys.eventStream,
    keys.openDeliveries,
    keys.dispatchDeadLetters,
    DISPATCHER_GROUP,
    Math.max(0, now - retentionMs),
    Math.max(0, now - openDeliveryMaxAgeMs),
    Math.max(0, now - deadLetterRetentionMs),
  );
  return { trimmed, minId: minId === '' ? undefined : minId, deadLettersTrimmed, expiredOpenDeliveries };
}
