import type { Redis } from 'ioredis';
import { DISPATCHER_GROUP, type FanoutKeys } from './keys.js';
import { withScript, type FanoutScript } from './scripts.js';

/** A stream entry the dispatcher gives up on, and why. */
export interface DispatchFailure {
  readonly streamId: string;
  readonly reason: string;
  /** How often the entry was read or claimed through the group (XPENDING's delivery count). */
  readonly deliveryCount: number;
}

/** A dispatcher dead letter as stored: what went wrong, and the entry's fields as they were. */
export interface DispatchDeadLetter {
  /** The dead letter's own stream id; newer ones sort after older ones. */
  readonly id: string;
  /** The event stream entry it was. */
  readonly streamId: string;
  readonly reason: string;
  readonly deliveryCount: number;
  /** Unix ms. */
  readonly deadLetteredAt: number;
  /** The entry's fields other than the body, as text; empty when the entry was gone. */
  readonly fields: Readonly<Record<string, string>>;
  /** The entry's body, byte for byte; undefined when it had none. */
  readonly body: Buffer | undefined;
}

export interface DispatchDeadLetterPage {
  readonly items: DispatchDeadLetter[];
  /** Dead letters stored in all. */
  readonly total: number;
  /** Where the next page starts (exclusive); null on the last page. */
  readonly nextCursor: string | null;
}

/** Entry fields are copied under this prefix, so they can never clash with the dead letter's own fields. */
const ENTRY_FIELD = 'entry.';

// KEYS[1] the event stream, KEYS[2] the dispatcher dead letters. ARGV[1] the group, ARGV[2]
// now (ms), then per entry: stream id, reason, delivery count. Acknowledges first and copies
// only what this call acknowledged, so an entry that another dispatcher dispatched (and
// acknowledged) meanwhile is not dead-lettered as well. Returns the ids dead-lettered.
const DEAD_LETTER_LUA = `
local done = {}
for i = 3, #ARGV, 3 do
  local id = ARGV[i]
  if redis.call('XACK', KEYS[1], ARGV[1], id) == 1 then
    local fields = {'streamId', id, 'reason', ARGV[i + 1], 'deliveryCount', ARGV[i + 2], 'deadLetteredAt', ARGV[2]}
    local found = redis.call('XRANGE', KEYS[1], id, id)[1]
    if found then
      for j = 1, #found[2], 2 do
        fields[#fields + 1] = '${ENTRY_FIELD}' .. found[2][j]
        fields[#fields + 1] = found[2][j + 1]
      end
    end
    redis.call('XADD', KEYS[2], '*', unpack(fields))
    done[#done + 1] = id
  end
end
return done
`;

interface DeadLetterCommand {
  fanoutDispatchDeadLetter(streamKey: string, deadLettersKey: string, ...args: (string | number)[]): Promise<string[]>;
}

export const DISPATCH_DEAD_LETTER_SCRIPT: FanoutScript = { name: 'fanoutDispatchDeadLetter', numberOfKeys: 2, lua: DEAD_LETTER_LUA };

/**
 * Moves entries to the dispatcher dead letters: each is copied there (its fields byte for
 * byte, with the reason, the delivery count and the time) and acknowledged, atomically.
 * Answers the stream ids this call dead-lettered; an entry no longer pending is left alone.
 */
export async function deadLetterEntries(redis: Redis, keys: FanoutKeys, failures: readonly DispatchFailure[], now: number): Promise<string[]> {
  if (failures.length === 0) return [];
  const args = failures.flatMap(({ streamId, reason, deliveryCount }) => [streamId, reason, deliveryCount]);
  return withScript<DeadLetterCommand>(redis, DISPATCH_DEAD_LETTER_SCRIPT).fanoutDispatchDeadLetter(keys.eventStream, keys.dispatchDeadLetters, DISPATCHER_GROUP, now, ...args);
}

/**
 * How often each entry was delivered through the group (read, then claimed again), from
 * XPENDING's extended form; an entry no longer pending is absent. One round trip: the
 * commands are sent together.
 */
export async function readDeliveryCounts(redis: Redis, keys: FanoutKeys, streamIds: readonly string[]): Promise<Map<string, number>> {
  const replies = await Promise.all(streamIds.map((id) => redis.xpending(keys.eventStream, DISPATCHER_GROUP, id, id, 1) as Promise<[string, string, number, number][]>));
  return new Map(replies.flatMap((reply) => reply.map(([id, , , count]) => [id, count] as const)));
}

function toDeadLetter([id, raw]: [Buffer, Buffer[]]): DispatchDeadLetter {
  const own: Record<string, string> = {};
  const fields: Record<string, string> = {};
  let body: Buffer | undefined;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!.toString();
    const value = raw[i + 1]!;
    if (!name.startsWith(ENTRY_FIELD)) own[name] = value.toString();
    else if (name === `${ENTRY_FIELD}body`) body = value;
    else fields[name.slice(ENTRY_FIELD.length)] = value.toString();
  }
  return {
    id: id.toString(),
    streamId: own['streamId'] ?? '',
    reason: own['reason'] ?? '',
    deliveryCount: Number(own['deliveryCount']),
    deadLetteredAt: Number(own['deadLetteredAt']),
    fields,
    body,
  };
}

/**
 * A page of the dispatcher dead letters, newest first: `limit` of them, starting after the
 * dead letter `cursor` names (a previous page's `nextCursor`), or at the newest.
 */
export async function readDispatchDeadLetters(redis: Redis, keys: FanoutKeys, { limit, cursor }: { limit: number; cursor?: string }): Promise<DispatchDeadLetterPage> {
  // One more than asked for tells whether another page follows.
  const [total, raw] = await Promise.all([
    redis.xlen(keys.dispatchDeadLetters),
    redis.xrevrangeBuffer(keys.dispatchDeadLetters, cursor === undefined ? '+' : `(${cursor}`, '-', 'COUNT', limit + 1) as Promise<[Buffer, Buffer[]][]>,
  ]);
  const items = raw.slice(0, limit).map(toDeadLetter);
  return { items, total, nextCursor: raw.length > limit ? (items.at(-1)?.id ?? null) : null };
}
