import { Redis, type RedisOptions } from 'ioredis';
import { WRITE_OUTCOME_SCRIPT } from './delivery-outcomes.js';
import { DISPATCH_DEAD_LETTER_SCRIPT } from './dispatch-dead-letters.js';
import { RECORD_DISPATCHES_SCRIPT } from './dispatch-records.js';
import { APPEND_EVENT_ONCE_SCRIPT, APPEND_EVENT_SCRIPT } from './event-stream.js';
import { defineScript, type FanoutScript } from './scripts.js';
import { TRIM_STREAM_SCRIPT } from './stream-retention.js';

/**
 * What a connection is for decides how it behaves while Redis is away:
 * - `request`: answers an HTTP request; fails at once when disconnected and after
 *   `commandTimeoutMs` when Redis hangs, so the ingress can say 503 within a second
 *   instead of queueing without bound.
 * - `background`: dispatcher loops and BullMQ; waits and reconnects forever
 *   (BullMQ requires `maxRetriesPerRequest: null`).
 */
export type ConnectionPurpose = 'request' | 'background';

export interface ConnectionOptions {
  purpose: ConnectionPurpose;
  /** Connection name shown by CLIENT LIST. */
  name?: string;
  /** `request` connections only. Default 1000 ms. */
  commandTimeoutMs?: number;
  /**
   * ioredis `enableAutoPipelining`: the commands issued in one tick go out in one write. On
   * a loopback socket each write costs tens of µs, so a connection that sends many small
   * commands at once gains most. Not with `call`/`callBuffer`: ioredis 5 breaks them when
   * auto-pipelining (it passes the arguments as the command name).
   */
  autoPipelining?: boolean;
}

/** Reconnect quickly at first, then every 2 s at most, forever. */
function reconnectDelay(times: number): number {
  return Math.min(50 * 2 ** Math.min(times, 6), 2_000);
}

export function redisOptionsFor({ purpose, name, commandTimeoutMs = 1_000, autoPipelining = false }: ConnectionOptions): RedisOptions {
  // disconnect() of a connection that is reconnecting leaves ioredis's disconnectTimeout timer (2 s by default)
  // on a socket that already closed, which keeps a stopping process alive that long for nothing.
  const common: RedisOptions = { retryStrategy: reconnectDelay, lazyConnect: true, disconnectTimeout: 200, enableAutoPipelining: autoPipelining, ...(name ? { connectionName: name } : {}) };
  if (purpose === 'request') {
    return { ...common, enableOfflineQueue: false, maxRetriesPerRequest: 0, commandTimeout: commandTimeoutMs, connectTimeout: commandTimeoutMs };
  }
  return { ...common, maxRetriesPerRequest: null, enableReadyCheck: true };
}

/** Every script fanout runs. */
const FANOUT_SCRIPTS: readonly FanoutScript[] = [APPEND_EVENT_SCRIPT, APPEND_EVENT_ONCE_SCRIPT, RECORD_DISPATCHES_SCRIPT, DISPATCH_DEAD_LETTER_SCRIPT, TRIM_STREAM_SCRIPT, WRITE_OUTCOME_SCRIPT];

/** A connection that is not yet connected; call `connect()` (or let the first command do it). */
export function createRedisConnection(url: string, options: ConnectionOptions): Redis {
  const redis = new Redis(url, redisOptionsFor(options));
  // ioredis copies a connection's scripts into an auto-pipeline as it creates it: a script
  // defined later in that tick is missing from it, and ioredis then crashes the process when
  // the pipeline answers ("results[i] is not iterable"). So such a connection has them all first.
  if (options.autoPipelining) for (const script of FANOUT_SCRIPTS) defineScript(redis, script);
  return redis;
}
