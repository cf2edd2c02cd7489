import { Redis, type RedisOptions } from 'ioredis';
import { defineScripts, type ScriptSet } from './scripts.js';

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
  /** The scripts this connection runs (each package exports its set); defined before it connects. Default none. */
  scripts?: readonly ScriptSet[];
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

/** A connection that is not yet connected, with its scripts defined; call `connect()` (or let the first command do it). */
export function createRedisConnection(url: string, options: ConnectionOptions): Redis {
  const redis = new Redis(url, redisOptionsFor(options));
  defineScripts(redis, options.scripts ?? []);
  return redis;
}
