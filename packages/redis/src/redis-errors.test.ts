import { describe, expect, it } from '@jest/globals';
import { isTransientRedisFailure, redisFailure } from './redis-errors.js';

describe('redisFailure', () => {
  it.each([
    ["OOM command not allowed when used memory > 'maxmemory'.", 'out-of-memory'],
    ['Command timed out', 'unanswered'],
    ["READONLY You can't write against a read only replica.", 'read-only'],
    ['LOADING Redis is loading the dataset in memory', 'refused'],
    ['BUSY Redis is busy running a script.', 'refused'],
    ['Connection is closed.', 'unanswered'],
    ['read ECONNRESET', 'unanswered'],
    // Sent and cut off, or queued and never sent: ioredis says the same for both.
    ['Reached the max retries per request limit (which is 0). Refer to "maxRetriesPerRequest" option for details.', 'unanswered'],
    ["Stream isn't writeable and enableOfflineQueue options is false", 'unreachable'],
    ['connect ECONNREFUSED 127.0.0.1:6379', 'unreachable'],
    ['ERR user_script:3: attempt to compare nil with number', 'other'],
    ['WRONGTYPE Operation against a key holding the wrong kind of value', 'other'],
  ])('reads %j as %s', (message, failure) => {
    expect(redisFailure(new Error(message))).toBe(failure);
  });

  it('tries again only what Redis itself kept from running', () => {
    expect(isTransientRedisFailure(new Error("OOM command not allowed when used memory > 'maxmemory'."))).toBe(true);
    expect(isTransientRedisFailure(new Error('ERR wrong number of arguments for HSET'))).toBe(false);
  });
});
