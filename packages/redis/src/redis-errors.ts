/**
 * What a failed Redis command says about the state of Redis, for the answer a request gets
 * and for whether a write is worth trying again:
 * - `out-of-memory`: Redis refused a write at its maxmemory (`OOM command not allowed…`);
 * - `unanswered`: the command was sent and no answer came (in time, or before the connection
 *   closed under it): it may have run;
 * - `unreachable`: it was never sent (no connection, or the connection closed first);
 * - `read-only`: Redis is a replica (after a failover, or pointed at one) and refuses writes;
 * - `refused`: Redis cannot take writes for now (loading its data, a busy script, no primary);
 * - `other`: anything else (a script's own error, a wrong argument): trying again will not help.
 */
export type RedisFailure = 'out-of-memory' | 'unanswered' | 'unreachable' | 'read-only' | 'refused' | 'other';

const REFUSALS = /^(LOADING|BUSY|MASTERDOWN|CLUSTERDOWN|TRYAGAIN|NOREPLICAS)\b/;
// A command on its way when the connection closed under it: it may have run. ioredis rejects
// those in flight with these, and with "Reached the max retries per request limit" as well
// (it flushes its sent commands and its queued ones with the same error).
const CUT_OFF = /^Command timed out$|Connection is closed|ECONNRESET|EPIPE|max retries per request/;
// ioredis's own message for a command it never sent (offline queue off), and a connection never made.
const UNREACHABLE = /Stream isn't writeable|enableOfflineQueue|ECONNREFUSED|ENOTFOUND|ETIMEDOUT/;

export function redisFailure(error: unknown): RedisFailure {
  const message = typeof error === 'object' && error !== null && 'message' in error ? String(error.message) : String(error);
  if (message.startsWith('OOM ')) return 'out-of-memory';
  if (CUT_OFF.test(message)) return 'unanswered';
  if (message.startsWith('READONLY ')) return 'read-only';
  if (REFUSALS.test(message)) return 'refused';
  if (UNREACHABLE.test(message)) return 'unreachable';
  return 'other';
}

/** Whether a write that failed so is worth trying again once Redis recovers (everything but a script's or an argument's own error). */
export function isTransientRedisFailure(error: unknown): boolean {
  return redisFailure(error) !== 'other';
}
