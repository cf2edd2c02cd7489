import type { Redis } from 'ioredis';
import { ATTEMPT_LOG_LENGTH, DELIVERY_FIELD, openDeliveryMember, type AttemptRecord, type DeliveryRecord } from './delivery-records.js';
import { encodeEventEntry, type EventEntry } from './event-entry.js';
import type { FanoutKeys } from './keys.js';
import { withScript, type FanoutScript } from './scripts.js';

/** Where a delivery stands after an attempt, or after BullMQ failed its job by itself. */
export interface DeliveryOutcome {
  readonly eventId: string;
  readonly destination: string;
  readonly record: DeliveryRecord;
  /** Appended to the delivery's attempt log; absent when no attempt ran. */
  readonly attempt?: AttemptRecord;
  /** A copy of the event kept for a dead letter's retention (ms), so a replay finds its body once retention trimmed the stream entry. */
  readonly deadLetterCopy?: { readonly event: EventEntry; readonly retentionMs: number };
}

// KEYS[1] the event record, KEYS[2] the open deliveries, KEYS[3] the attempt log, KEYS[4] the
// dead-letter copy of the event. ARGV[1] the record's field, ARGV[2] the record, ARGV[3] the
// ttl of the event record and the attempt log, ARGV[4] the open-deliveries member to remove
// ('' while the delivery stays open), ARGV[5] the attempt ('' for none), ARGV[6] the attempt
// log's length, ARGV[7] the copy's retention ('' for no copy), ARGV[8..] the copy's fields.
const WRITE_OUTCOME_LUA = `
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
-- HSET created a record that expired meanwhile again: NX gives it a ttl, a live one keeps its own.
redis.call('PEXPIRE', KEYS[1], ARGV[3], 'NX')
if ARGV[4] ~= '' then redis.call('ZREM', KEYS[2], ARGV[4]) end
if ARGV[5] ~= '' then
  if redis.call('RPUSH', KEYS[3], ARGV[5]) > tonumber(ARGV[6]) then redis.call('LTRIM', KEYS[3], -tonumber(ARGV[6]), -1) end
  redis.call('PEXPIRE', KEYS[3], ARGV[3])
end
if ARGV[7] ~= '' then
  redis.call('HSET', KEYS[4], unpack(ARGV, 8))
  -- NX gives a new copy its ttl; GT lengthens an existing one's when this retention ends later.
  redis.call('PEXPIRE', KEYS[4], ARGV[7], 'NX')
  redis.call('PEXPIRE', KEYS[4], ARGV[7], 'GT')
end
`;

export const WRITE_OUTCOME_SCRIPT: FanoutScript = { name: 'fanoutWriteOutcome', numberOfKeys: 4, lua: WRITE_OUTCOME_LUA };

interface WriteOutcomeCommand {
  fanoutWriteOutcome(recordKey: string, openKey: string, logKey: string, copyKey: string, ...args: (string | number | Buffer)[]): Promise<null>;
}

/**
 * Writes a delivery's new record, its attempt and, for a dead letter, the copy of its event,
 * in one script: the record and the log never disagree, and a delivery costs one command
 * where a MULTI of the same writes cost eight. A final record (delivered, dead) also closes
 * the delivery, so retention may trim its stream entry from then on.
 *
 * @param ttlMs How long the attempt log is kept; also the event record's ttl, given only to a record that expired and is written again.
 */
export async function writeDeliveryOutcome(redis: Redis, keys: FanoutKeys, outcome: DeliveryOutcome, ttlMs: number): Promise<void> {
  const { eventId, destination, record, attempt, deadLetterCopy } = outcome;
  const final = record.status === 'delivered' || record.status === 'dead';
  await withScript<WriteOutcomeCommand>(redis, WRITE_OUTCOME_SCRIPT).fanoutWriteOutcome(
    keys.event(eventId),
    keys.openDeliveries,
    keys.attempts(eventId, destination),
    keys.deadLetterEvent(eventId),
    DELIVERY_FIELD + destination,
    JSON.stringify(record),
    ttlMs,
    final ? openDeliveryMember(eventId, destination) : '',
    attempt ? JSON.stringify(attempt) : '',
    ATTEMPT_LOG_LENGTH,
    deadLetterCopy ? deadLetterCopy.retentionMs : '',
    ...(deadLetterCopy ? encodeEventEntry(deadLetterCopy.event) : []),
  );
}
